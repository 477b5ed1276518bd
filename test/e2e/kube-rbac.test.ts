/**
 * Every API request a real `plexus agent` makes, leading, against the fake API server, checked
 * against manifests/30-rbac.yaml as the API server's authorizer would (the fake does not model
 * RBAC) and against the list `plexus check` asks SubjectAccessReviews for. Covers the leader's
 * writes: shadow Services created, updated and deleted, an Event, the CoreDNS patch and roll,
 * the Lease taken and released. Secure mode's calls are audited in kube-secure.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { kubeconfigFor, writeKubeconfig } from '../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../fake-apiserver/server.js';
import { FIXTURES, PLEXUS_ARGV } from '../helpers/paths.js';
import { seedCoreDns } from '../unit/dns-corefile/coredns-cluster.js';
import { smiCrd } from '../unit/kube/fixtures.js';
import { auditAgentRequests } from './helpers/rbac-audit.js';
import { eventually } from './helpers/plexus.js';

const TOKEN = 'agent-token';
const LONG = `s${'x'.repeat(61)}1`;

describe('kube mode: the agent makes only calls manifests/30-rbac.yaml grants', function () {
  this.timeout(120_000);
  let server: FakeApiServer;
  let kc: KubeConfig;
  let dir: string;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    server = new FakeApiServer({ bookmarkIntervalMs: 500 });
    await server.start();
    kc = kubeconfigFor(server);
    dir = await mkdtemp(join(tmpdir(), 'plexus-kube-rbac-'));
  });
  afterEach(async () => {
    await agent?.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('leading: shadow Services, an Event, the CoreDNS patch and the Lease', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const kind of ['TrafficTarget', 'HTTPRouteGroup', 'TrafficSplit', 'TCPRoute', 'UDPRoute']) {
      await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: smiCrd(kind) });
    }
    await seedCoreDns(kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'kubeadm-1.11.Corefile'), 'utf8') });
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    await core.createNamespace({ body: { metadata: { name: 'shop', annotations: { 'plexus.dev/mesh': 'true' } } } });
    for (const name of ['web', LONG]) {
      await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] } } });
    }
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'bad', annotations: { 'plexus.dev/retry-attempts': 'many' } }, spec: { ports: [{ port: 80 }] } } });

    agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', writeKubeconfig(server, join(dir, 'kubeconfig'), { token: TOKEN }), '--namespace', 'plexus',
      '--node-name', 'node-a', '--listen-address', '127.0.0.1', '--admin-port', '0', '--admin-address', '127.0.0.1',
    ], { KUBE_LEASE_DURATION_SECONDS: '2' });
    await agent.ready();

    const shadows = async (): Promise<string[]> =>
      (await core.listNamespacedService({ namespace: 'plexus', labelSelector: 'app.kubernetes.io/managed-by=plexus' })).items.map((s) => s.metadata?.annotations?.['plexus.dev/shadow-of-name'] ?? '');
    await eventually(async () => {
      if ((await shadows()).length !== 3) throw new Error('shadow Services not written yet');
    }, 30_000);
    await eventually(async () => {
      const corefile = (await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' })).data?.['Corefile'] ?? '';
      const template = (await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' })).spec?.template.metadata?.annotations ?? {};
      if (!corefile.includes(`${LONG}\\.shop\\.plexus`) || !('plexus.dev/corefile-hash' in template)) throw new Error('CoreDNS not patched and rolled yet');
    }, 30_000);
    await eventually(async () => {
      if ((await core.listNamespacedEvent({ namespace: 'shop' })).items.length === 0) throw new Error('no Event yet');
    }, 30_000);
    // An update and a deletion of shadow Services.
    const web = await core.readNamespacedService({ namespace: 'shop', name: 'web' });
    await core.replaceNamespacedService({ namespace: 'shop', name: 'web', body: { ...web, spec: { ...web.spec, ports: [...(web.spec?.ports ?? []), { name: 'admin', port: 9090, protocol: 'TCP' }] } } });
    await core.deleteNamespacedService({ namespace: 'shop', name: LONG });
    await eventually(async () => {
      const list = await core.listNamespacedService({ namespace: 'plexus', labelSelector: 'app.kubernetes.io/managed-by=plexus' });
      const webShadow = list.items.find((s) => s.metadata?.annotations?.['plexus.dev/shadow-of-name'] === 'web');
      if (list.items.length !== 2 || webShadow?.spec?.ports?.length !== 2) throw new Error('shadow Services not updated yet');
    }, 30_000);
    expect(await agent.stop()).to.equal(0);

    const audit = auditAgentRequests(server.requests, (authorization) => authorization === `Bearer ${TOKEN}`);
    const writes = ['create core/services in plexus', 'update core/services', 'delete core/services', 'create core/events in shop',
      'update core/configmaps/coredns in kube-system', 'patch apps/deployments/coredns in kube-system', 'create coordination.k8s.io/leases in plexus',
      'update coordination.k8s.io/leases/plexus-leader in plexus'];
    for (const write of writes) expect(audit.calls.some((c) => c.startsWith(write)), `${write} in ${audit.calls.join('\n')}`).to.equal(true);
    expect(audit.denied, 'calls the RBAC of manifests/ denies').to.deep.equal([]);
    expect(audit.unchecked, 'calls plexus check does not ask about (src/cli/commands/check-agent-rbac.ts)').to.deep.equal([]);
  });
});
