import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { kubeconfigFor, writeKubeconfig } from '../../fake-apiserver/kubeconfig.js';
import { FIXTURES, PLEXUS_ARGV } from '../../helpers/paths.js';
import { shadowServiceName } from '../../../src/dns/shadow-name.js';
import { SHADOW_OF_NAME, SHADOW_OF_NAMESPACE, MANAGED_BY_LABEL, MANAGED_BY_PLEXUS } from '../../../src/kube/labels.js';
import { readState, seedCoreDns } from './coredns-cluster.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `plexus` binary; killed after 20 s so a hang fails the test instead of the run. */
function plexus(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...PLEXUS_ARGV, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBERNETES_SERVICE_HOST: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function seedMesh(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
  for (const [namespace, name] of [['shop', 'web'], ['shop', 'web--canary']] as const) {
    await core.createNamespacedService({
      namespace: 'plexus',
      body: {
        metadata: {
          name: shadowServiceName(namespace, name),
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLEXUS, [SHADOW_OF_NAMESPACE]: namespace, [SHADOW_OF_NAME]: name },
        },
        spec: { ports: [{ name: 'http', port: 80, targetPort: 30080, protocol: 'TCP' }], selector: { 'app.kubernetes.io/name': 'plexus' } },
      },
    });
  }
}

describe('plexus prepare / cleanup / check against the fake API server', function () {
  // Each case starts the real binary several times; a loaded 2-core machine needs the room.
  this.timeout(120_000);
  let server: FakeApiServer;
  let kc: KubeConfig;
  let dir: string;
  let kubeconfig: string;

  beforeEach(async () => {
    server = new FakeApiServer({ bookmarkIntervalMs: 60_000 });
    await server.start();
    kc = kubeconfigFor(server);
    dir = mkdtempSync(join(tmpdir(), 'plexus-install-'));
    kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig'));
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prepare twice, then cleanup twice: the second of each changes nothing; the Corefile comes back byte-exact', async () => {
    const original = readFileSync(join(FIXTURES, 'corefiles', 'k3s.Corefile'), 'utf8');
    await seedCoreDns(kc, { corefile: original });
    await seedMesh(kc);

    const first = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/patched ConfigMap kube-system\/coredns/);
    const patched = await readState(kc);
    expect(patched.corefile).to.include('^web--canary\\.shop\\.plexus\\.?$');

    const second = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.match(/nothing written, nothing restarted/);
    expect((await readState(kc)).deploymentVersion).to.equal(patched.deploymentVersion);

    const cleaned = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(cleaned.code, cleaned.stderr).to.equal(0);
    expect(cleaned.stdout).to.match(/deleted 2/);
    expect((await readState(kc)).corefile).to.equal(original);
    expect((await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: 'plexus' })).items).to.be.empty;

    const again = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/none left/);
    expect(again.stdout).to.match(/nothing written/);
  });

  it('check prints one line per check and fails until agents, leader and DNS are in place', async () => {
    await seedCoreDns(kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'eks.Corefile'), 'utf8') });
    await seedMesh(kc);
    const before = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(before.code).to.equal(1);
    expect(before.stdout).to.match(/^ok {4}namespace: plexus exists$/m);
    expect(before.stdout).to.match(/^FAIL {2}SMI CRDs: missing: trafficsplits\.split\.smi-spec\.io/m);
    expect(before.stdout).to.match(/^FAIL {2}CoreDNS: .* has no block for \*\.plexus/m);
    expect(before.stdout).to.match(/^ {6}hint: .*plexus prepare/m);
    expect(before.stdout).to.match(/^FAIL {2}agents: DaemonSet plexus\/plexus-agent does not exist/m);
    expect(before.stdout).to.match(/^FAIL {2}leader: no agent holds a current Lease/m);

    expect((await plexus(['prepare', '--kubeconfig', kubeconfig])).code).to.equal(0);
    await kc.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace: 'plexus',
      body: { metadata: { name: 'plexus-leader' }, spec: { holderIdentity: 'plexus-agent-x7k2p', leaseDurationSeconds: 3600, renewTime: new V1MicroTime() } },
    });
    const labels = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDaemonSet({
      namespace: 'plexus',
      body: { metadata: { name: 'plexus-agent' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'agent', image: 'ghcr.io/plexus-mesh/plexus:0.1.0' }] } } } },
    });
    const ds = await apps.readNamespacedDaemonSet({ namespace: 'plexus', name: 'plexus-agent' });
    await apps.replaceNamespacedDaemonSetStatus({
      namespace: 'plexus',
      name: 'plexus-agent',
      body: { ...ds, status: { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3 } },
    });
    const after = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(after.stdout).to.match(/^ok {4}CoreDNS: ConfigMap kube-system\/coredns \(Corefile\) serves \*\.plexus$/m);
    expect(after.stdout).to.match(/^ok {4}agents: ready on all 3 nodes$/m);
    expect(after.stdout).to.match(/^ok {4}leader: plexus-agent-x7k2p holds Lease plexus-leader$/m);
    expect(after.stdout).to.match(/^(ok|skip) {2,4}RBAC: /m);
    // Only the CRDs are still missing.
    expect(after.code).to.equal(1);
    expect(after.stdout.match(/^FAIL/gm)).to.have.length(1);
  });

  it('fails with a clear message, exit code 2, when CoreDNS is KubeDNS', async () => {
    await seedCoreDns(kc, { corefile: '', kubeDns: true });
    const run = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/KubeDNS, which Plexus does not support/);
  });
});
