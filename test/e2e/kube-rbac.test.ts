/**
 * Every API request a real `plexus agent` makes, leading, is granted by manifests/30-rbac.yaml.
 * On the fake API server (`npm test`) the agent's requests are checked against the manifests'
 * RBAC as the API server's authorizer would (the fake does not model RBAC) and against the list
 * `plexus check` asks SubjectAccessReviews for. On the real one (`npm run test:cluster`) the
 * agent runs with the token of the `plexus-agent` ServiceAccount of manifests/ under the real
 * authorizer: the work gets done and nothing is refused. Covers the leader's writes: shadow
 * Services created, updated and deleted, an Event, the CoreDNS patch and roll, the Lease taken
 * and released. Secure mode's calls are audited in kube-secure.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { FIXTURES, PLEXUS_ARGV, REPO_ROOT } from '../helpers/paths.js';
import { seedCoreDns } from '../unit/dns-corefile/coredns-cluster.js';
import { smiCrd } from '../unit/kube/fixtures.js';
import { apiServerKinds, startApiServer, type TestApiServer } from './helpers/api-servers.js';
import { auditAgentRequests } from './helpers/rbac-audit.js';
import { eventually } from './helpers/plexus.js';

const LONG = `s${'x'.repeat(61)}1`;

/** Fake: the CRDs, a kubeadm CoreDNS and the mesh namespace; any token (recorded, not checked). */
async function prepareFake(kc: KubeConfig): Promise<string> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const kind of ['TrafficTarget', 'HTTPRouteGroup', 'TrafficSplit', 'TCPRoute', 'UDPRoute']) {
    await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: smiCrd(kind) });
  }
  await seedCoreDns(kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'kubeadm-1.11.Corefile'), 'utf8') });
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'plexus' } } });
  return 'agent-token';
}

/**
 * Creates `object`, or brings one that exists to it, as `kubectl apply` would: the kit's reset
 * keeps kube-system's RBAC, so the CoreDNS Role of an earlier install can still be there.
 */
async function createOrReplace(objects: KubernetesObjectApi, object: KubernetesObject): Promise<void> {
  try {
    await objects.create(object);
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
    await objects.replace(object);
  }
}

/** Real: manifests/ but the DaemonSet (the agent runs here), and a token of its ServiceAccount. */
async function prepareReal(kc: KubeConfig): Promise<string> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const dir = join(REPO_ROOT, 'manifests');
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const object = doc.toJS() as KubernetesObject | null;
      if (object !== null && object.kind !== 'DaemonSet') await createOrReplace(objects, object);
    }
  }
  const request = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace: 'plexus', name: 'plexus-agent', body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (token === undefined) throw new Error('the TokenRequest for plexus/plexus-agent returned no token');
  return token;
}

for (const kind of apiServerKinds()) describe(`kube mode: the agent makes only calls manifests/30-rbac.yaml grants (${kind} API server)`, function () {
  this.timeout(300_000);
  let server: TestApiServer;
  let kc: KubeConfig;
  let dir: string;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    server = await startApiServer(kind, { bookmarkIntervalMs: 500, allowLoopbackEndpoints: false });
    kc = server.kc;
    dir = await mkdtemp(join(tmpdir(), 'plexus-kube-rbac-'));
  });
  afterEach(async () => {
    await agent?.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('leading: shadow Services, an Event, the CoreDNS patch and the Lease', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const token = server.fake === null ? await prepareReal(kc) : await prepareFake(kc);
    await core.createNamespace({ body: { metadata: { name: 'shop', annotations: { 'plexus.dev/mesh': 'true' } } } });
    for (const name of ['web', LONG]) {
      await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] } } });
    }
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'bad', annotations: { 'plexus.dev/retry-attempts': 'many' } }, spec: { ports: [{ port: 80 }] } } });

    agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', server.kubeconfigFile(join(dir, 'kubeconfig'), token), '--namespace', 'plexus',
      '--node-name', 'node-a', '--listen-address', '127.0.0.1', '--admin-port', '0', '--admin-address', '127.0.0.1', '--drain-window', '0',
    ], { KUBE_LEASE_DURATION_SECONDS: '2' });
    await agent.ready();

    const shadows = async (): Promise<string[]> =>
      (await core.listNamespacedService({ namespace: 'plexus', labelSelector: 'app.kubernetes.io/managed-by=plexus' })).items.map((s) => s.metadata?.annotations?.['plexus.dev/shadow-of-name'] ?? '');
    await eventually(async () => {
      if ((await shadows()).length !== 3) throw new Error('shadow Services not written yet');
    }, 120_000);
    await eventually(async () => {
      const corefile = (await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' })).data?.['Corefile'] ?? '';
      const template = (await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' })).spec?.template.metadata?.annotations ?? {};
      if (!corefile.includes(`${LONG}\\.shop\\.plexus`) || !('plexus.dev/corefile-hash' in template)) throw new Error('CoreDNS not patched and rolled yet');
    }, 120_000);
    await eventually(async () => {
      if ((await core.listNamespacedEvent({ namespace: 'shop' })).items.length === 0) throw new Error('no Event yet');
    }, 120_000);
    // An update and a deletion of shadow Services.
    const web = await core.readNamespacedService({ namespace: 'shop', name: 'web' });
    await core.replaceNamespacedService({ namespace: 'shop', name: 'web', body: { ...web, spec: { ...web.spec, ports: [...(web.spec?.ports ?? []), { name: 'admin', port: 9090, protocol: 'TCP' }] } } });
    await core.deleteNamespacedService({ namespace: 'shop', name: LONG });
    await eventually(async () => {
      const list = await core.listNamespacedService({ namespace: 'plexus', labelSelector: 'app.kubernetes.io/managed-by=plexus' });
      const webShadow = list.items.find((s) => s.metadata?.annotations?.['plexus.dev/shadow-of-name'] === 'web');
      if (list.items.length !== 2 || webShadow?.spec?.ports?.length !== 2) throw new Error('shadow Services not updated yet');
    }, 120_000);
    expect(await agent.stop()).to.equal(0);

    if (server.fake === null) {
      // The real authorizer let every call through: the agent logged no refusal.
      expect(agent.warnings.filter((w) => /forbidden|\b403\b/i.test(w)), 'refused calls').to.deep.equal([]);
      return;
    }
    const audit = auditAgentRequests(server.fake.requests, (authorization) => authorization === `Bearer ${token}`);
    const writes = ['create core/services in plexus', 'update core/services', 'delete core/services', 'create core/events in shop',
      'update core/configmaps/coredns in kube-system', 'patch apps/deployments/coredns in kube-system', 'create coordination.k8s.io/leases in plexus',
      'update coordination.k8s.io/leases/plexus-leader in plexus'];
    for (const write of writes) expect(audit.calls.some((c) => c.startsWith(write)), `${write} in ${audit.calls.join('\n')}`).to.equal(true);
    expect(audit.denied, 'calls the RBAC of manifests/ denies').to.deep.equal([]);
    expect(audit.unchecked, 'calls plexus check does not ask about (src/cli/commands/check-agent-rbac.ts)').to.deep.equal([]);
  });
});
