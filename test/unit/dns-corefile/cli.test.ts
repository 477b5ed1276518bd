import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { parse } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import { writeKubeconfig } from '../../fake-apiserver/kubeconfig.js';
import { apiServerPerTest } from '../../helpers/api-server-per-test.js';
import { FIXTURES, PLEXUS_ARGV, REPO_ROOT } from '../../helpers/paths.js';
import { shadowServiceName } from '../../../src/dns/shadow-name.js';
import { SHADOW_OF_NAME, SHADOW_OF_NAMESPACE, MANAGED_BY_LABEL, MANAGED_BY_PLEXUS } from '../../../src/kube/labels.js';
import { readState, seedCoreDns } from './coredns-cluster.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `plexus` binary; killed after 90 s (a start-up takes seconds on a loaded 2-core machine) so a hang fails the test instead of the run. */
/** What the agents leave behind besides shadow Services: the Lease and Events (plus one Event of another tool). */
async function seedAgentLeftovers(kc: KubeConfig, meshNamespace: string): Promise<void> {
  await kc.makeApiClient(CoordinationV1Api).createNamespacedLease({
    namespace: meshNamespace,
    body: { metadata: { name: 'plexus-leader' }, spec: { holderIdentity: 'plexus-agent-x7k2p', leaseDurationSeconds: 15 } },
  });
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  for (const [name, component] of [['web.plexus1', 'plexus-agent'], ['web.other', 'other-controller']] as const) {
    await core.createNamespacedEvent({
      namespace: 'shop',
      body: { metadata: { name }, involvedObject: { kind: 'Service', name: 'web', namespace: 'shop' }, reason: 'PlexusConfigProblem', message: 'x', source: { component } },
    });
  }
}

function plexus(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...PLEXUS_ARGV, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, KUBERNETES_SERVICE_HOST: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function seedMesh(kc: KubeConfig, meshNamespace = 'plexus'): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: meshNamespace } } });
  for (const [namespace, name] of [['shop', 'web'], ['shop', 'web--canary']] as const) {
    await core.createNamespacedService({
      namespace: meshNamespace,
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
  this.timeout(300_000);
  const api = apiServerPerTest({ bookmarkIntervalMs: 60_000 });
  let dir: string;
  let kubeconfig: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plexus-install-'));
    kubeconfig = writeKubeconfig(api.server, join(dir, 'kubeconfig'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prepare twice, then cleanup twice: the second of each changes nothing; the Corefile comes back byte-exact', async () => {
    const original = readFileSync(join(FIXTURES, 'corefiles', 'k3s.Corefile'), 'utf8');
    await seedCoreDns(api.kc, { corefile: original });
    await seedMesh(api.kc);

    const first = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/patched ConfigMap kube-system\/coredns/);
    const patched = await readState(api.kc);
    expect(patched.corefile).to.include('^web--canary\\.shop\\.plexus\\.?$');

    expect(patched.template).to.have.property('plexus.dev/corefile-hash');

    const writesBefore = api.server.writes().length;
    const second = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.match(/nothing written, nothing restarted/);
    expect(api.server.writes().slice(writesBefore), 'the second prepare writes nothing').to.deep.equal([]);
    expect((await readState(api.kc)).deploymentVersion).to.equal(patched.deploymentVersion);

    await seedAgentLeftovers(api.kc, 'plexus');
    const cleaned = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(cleaned.code, cleaned.stderr).to.equal(0);
    expect(cleaned.stdout).to.match(/shadow Services: deleted 2/);
    expect(cleaned.stdout).to.match(/^Lease: deleted plexus\/plexus-leader$/m);
    expect(cleaned.stdout).to.match(/^Events: deleted 1$/m);
    const restored = await readState(api.kc);
    expect(restored.corefile).to.equal(original);
    expect(restored.annotations, 'no backup left on the ConfigMap').to.not.have.property('plexus.dev/original-corefile');
    expect(restored.template, 'the roll annotation is gone from the CoreDNS pod template').to.deep.equal({});
    const core = api.kc.makeApiClient(CoreV1Api);
    expect((await core.listNamespacedService({ namespace: 'plexus' })).items).to.be.empty;
    expect((await core.listNamespacedEvent({ namespace: 'shop' })).items.map((e) => e.metadata.name), "another tool's Event stays").to.deep.equal(['web.other']);
    expect((await api.kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: 'plexus' })).items).to.be.empty;

    const writesBeforeAgain = api.server.writes().length;
    const again = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/shadow Services: none left/);
    expect(again.stdout).to.match(/^Lease: none left$/m);
    expect(again.stdout).to.match(/^Events: none left$/m);
    expect(again.stdout).to.match(/nothing written/);
    expect(api.server.writes().slice(writesBeforeAgain), 'the second cleanup writes nothing').to.deep.equal([]);
  });

  it('--namespace: prepare, check and cleanup work on a mesh namespace other than plexus', async () => {
    const original = readFileSync(join(FIXTURES, 'corefiles', 'kubeadm-1.11.Corefile'), 'utf8');
    await seedCoreDns(api.kc, { corefile: original });
    await seedMesh(api.kc, 'mesh-x');
    await seedAgentLeftovers(api.kc, 'mesh-x');
    const prepared = await plexus(['prepare', '--kubeconfig', kubeconfig, '--namespace', 'mesh-x']);
    expect(prepared.code, prepared.stderr).to.equal(0);
    const { corefile } = await readState(api.kc);
    expect(corefile).to.include('namespaces mesh-x');
    expect(corefile).to.include('.mesh-x.svc.cluster.local.');
    const checked = await plexus(['check', '--kubeconfig', kubeconfig, '--namespace', 'mesh-x']);
    expect(checked.stdout).to.match(/^ok {4}namespace: mesh-x exists$/m);
    expect(checked.stdout).to.match(/^ok {4}CoreDNS: /m);
    expect(checked.stdout).to.match(/^FAIL {2}agents: DaemonSet mesh-x\/plexus-agent does not exist/m);
    const cleaned = await plexus(['cleanup', '--kubeconfig', kubeconfig, '--namespace', 'mesh-x']);
    expect(cleaned.code, cleaned.stderr).to.equal(0);
    expect(cleaned.stdout).to.match(/shadow Services: deleted 2 in namespace mesh-x/);
    expect(cleaned.stdout).to.match(/^Lease: deleted mesh-x\/plexus-leader$/m);
    expect((await readState(api.kc)).corefile).to.equal(original);
  });

  it('cleanup warns while the agents or the issuer still run, and still cleans up', async () => {
    await seedCoreDns(api.kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'k3s.Corefile'), 'utf8') });
    await seedMesh(api.kc);
    const labels = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };
    await api.kc.makeApiClient(AppsV1Api).createNamespacedDaemonSet({
      namespace: 'plexus',
      body: { metadata: { name: 'plexus-agent' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'agent', image: 'ghcr.io/plexus-mesh/plexus:0.1.0' }] } } } },
    });
    const issuerLabels = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'issuer' };
    await api.kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: 'plexus',
      body: { metadata: { name: 'plexus-issuer' }, spec: { selector: { matchLabels: issuerLabels }, template: { metadata: { labels: issuerLabels }, spec: { containers: [{ name: 'issuer', image: 'ghcr.io/plexus-mesh/plexus:0.1.0' }] } } } },
    });
    const run = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/DaemonSet plexus\/plexus-agent and Deployment plexus\/plexus-issuer still exist .*the issuer signs with any CA made anew.*kubectl delete -f manifests\/ first/);
    expect(run.stdout).to.match(/shadow Services: deleted 2/);
  });

  it('check prints one line per check and fails until agents, leader and DNS are in place', async () => {
    await seedCoreDns(api.kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'eks.Corefile'), 'utf8') });
    await seedMesh(api.kc);
    const before = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(before.code).to.equal(1);
    expect(before.stdout).to.match(/^ok {4}namespace: plexus exists$/m);
    expect(before.stdout).to.match(/^FAIL {2}SMI CRDs: missing: trafficsplits\.split\.smi-spec\.io/m);
    expect(before.stdout).to.match(/^FAIL {2}CoreDNS: .* has no block for \*\.plexus/m);
    expect(before.stdout).to.match(/^ {6}hint: .*plexus prepare/m);
    expect(before.stdout).to.match(/^FAIL {2}agents: DaemonSet plexus\/plexus-agent does not exist/m);
    expect(before.stdout).to.match(/^FAIL {2}leader: no agent holds a current Lease/m);

    expect((await plexus(['prepare', '--kubeconfig', kubeconfig])).code).to.equal(0);
    await api.kc.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace: 'plexus',
      body: { metadata: { name: 'plexus-leader' }, spec: { holderIdentity: 'plexus-agent-x7k2p', leaseDurationSeconds: 3600, renewTime: new V1MicroTime() } },
    });
    const labels = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };
    const apps = api.kc.makeApiClient(AppsV1Api);
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

  it('fails with a clear message, exit code 2, when CoreDNS is KubeDNS; check says why, not "permissions"', async () => {
    await seedCoreDns(api.kc, { corefile: '', kubeDns: true });
    const run = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/KubeDNS, which Plexus does not support/);
    const checked = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(checked.stdout).to.match(/^FAIL {2}CoreDNS: .*KubeDNS, which Plexus does not support.*\n {6}hint: Plexus needs CoreDNS as cluster DNS/m);
    const cleaned = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(cleaned.code, cleaned.stderr).to.equal(0);
    expect(cleaned.stderr).to.match(/warning: KubeDNS: no CoreDNS configuration to restore/);
    expect(cleaned.stdout, 'it did not look for a block, so it does not claim none is left').to.match(/^CoreDNS: no CoreDNS Deployment found in kube-system; nothing written$/m);
  });

  it('check names the foreign mesh-domain block prepare refuses, with a hint about the Corefile', async () => {
    const corefile = readFileSync(join(FIXTURES, 'corefiles', 'foreign', 'plexus-block.Corefile'), 'utf8');
    await seedCoreDns(api.kc, { corefile });
    const run = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/already serves the mesh domain plexus and was not written by Plexus/);
    expect((await readState(api.kc)).corefile, 'refused, not clobbered').to.equal(corefile);
    const checked = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(checked.stdout).to.match(/^FAIL {2}CoreDNS: .*not written by Plexus.*\n {6}hint: fix the Corefile by hand/m);
    expect(checked.stdout).not.to.match(/CoreDNS: .*\n {6}hint: check the kubeconfig context/);
  });

  it('prepare before kubectl apply -f manifests/: patches DNS, skips the mesh CA with a warning, exits 0, and is still idempotent', async () => {
    const original = readFileSync(join(FIXTURES, 'corefiles', 'eks.Corefile'), 'utf8');
    await seedCoreDns(api.kc, { corefile: original, image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.3-eksbuild.1' });
    const first = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/patched ConfigMap kube-system\/coredns/);
    expect(first.stdout).to.match(/^mesh CA: skipped: no namespace plexus yet/m);
    expect(first.stderr).to.match(/warning: namespace plexus does not exist/);
    const writesBefore = api.server.writes().length;
    const second = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(second.code, second.stderr).to.equal(0);
    expect(api.server.writes().slice(writesBefore), 'the second prepare writes nothing').to.deep.equal([]);
    expect((await plexus(['cleanup', '--kubeconfig', kubeconfig])).code).to.equal(0);
    expect((await readState(api.kc)).corefile).to.equal(original);
  });

  it('check: an SMI CRD serving fewer versions than Plexus reads is a warning with a hint, not ok and not a failure', async () => {
    const custom = api.kc.makeApiClient(CustomObjectsApi);
    for (const file of readdirSync(join(REPO_ROOT, 'manifests')).filter((f) => f.includes('-crd-'))) {
      const crd = parse(readFileSync(join(REPO_ROOT, 'manifests', file), 'utf8')) as { spec: { versions: { name: string; served: boolean; storage: boolean }[] } };
      // Another mesh's older CRD: only its storage version is served.
      if (file.includes('trafficsplits')) crd.spec.versions = crd.spec.versions.filter((v) => v.storage);
      await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: crd });
    }
    const run = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(run.stdout).to.match(/^warn {2}SMI CRDs: all present; trafficsplits\.split\.smi-spec\.io does not serve v1alpha1, v1alpha2, v1alpha3 .*\n {6}hint: kubectl apply -f manifests\//m);
  });

  it('a server that rejects the credentials (401, no body for client-node) gets a hint, not a bare code', async () => {
    const rejecting = createServer((_req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
    });
    await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(rejecting.address() as AddressInfo).port}`;
      const run = await plexus(['prepare', '--kubeconfig', writeKubeconfig({ url }, join(dir, 'kubeconfig-401'))]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/HTTP 401 \(your credentials were not accepted: an expired token, or the wrong kubeconfig context\?\)/);
    } finally {
      await new Promise((resolve) => rejecting.close(resolve));
    }
  });

  it('check piped into a reader that stops early (| head) ends without a stack trace', async () => {
    await seedCoreDns(api.kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'eks.Corefile'), 'utf8') });
    const child = spawn(process.execPath, [...PLEXUS_ARGV, 'check', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBERNETES_SERVICE_HOST: '' } });
    // The reader is gone before the first line is written.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    expect(stderr).not.to.match(/EPIPE|Unhandled 'error' event/);
    expect(code).to.equal(1);
  });

  it('without any kubeconfig says so instead of calling localhost:8080', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir };
    delete env['KUBECONFIG'];
    for (const command of ['prepare', 'cleanup', 'check']) {
      const run = await plexus([command], env);
      expect(run.code, command).to.equal(2);
      expect(run.stderr, command).to.match(/no Kubernetes configuration found: .*pass --kubeconfig/);
      expect(run.stderr, command).not.to.match(/8080/);
    }
  });
});
