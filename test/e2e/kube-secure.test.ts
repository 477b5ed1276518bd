/**
 * Secure mode in Kubernetes mode, with the real binary against the fake API server: two agents
 * as nodes A and B (each its own pod IP on loopback, its own pod-bound ServiceAccount token).
 * The mesh CA is made as `plexus prepare` makes it; the leader issues every agent's certificates
 * after TokenReview; a client pod on A calls a Service whose pod is on B: the request crosses
 * the tunnel to B's agent (found from the agent pods) and is authorized at B. Also: the leader's
 * NetworkPolicies, `plexus check`, and issuance moving to the next leader.
 * Addresses of this file: agent pods 127.0.71.1-2, workload pods 127.0.72.0/24.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig, type V1NetworkPolicy } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { ensureCa } from '../../src/secure/cluster/ca-store.js';
import { kubeconfigFor, writeKubeconfig } from '../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../fake-apiserver/server.js';
import { PLEXUS_ARGV } from '../helpers/paths.js';
import { smiCrd } from '../unit/kube/fixtures.js';
import { httpBackend, httpCall, type Backend } from './helpers/backends.js';
import { httpAccess } from './helpers/manifests.js';
import { eventually, metricValue, runPlexus } from './helpers/plexus.js';
import { auditAgentRequests } from './helpers/rbac-audit.js';

const AGENT_IP = { 'node-a': '127.0.71.1', 'node-b': '127.0.71.2' } as const;
const CLIENT_A = '127.0.72.10';
const STRANGER_A = '127.0.72.11';
const WEB_B = '127.0.72.20';
const WEB_PORT = 8080;
const AGENT_LABELS = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('kube mode, secure: two agents, certificates from the leader, traffic across the tunnel', function () {
  this.timeout(300_000);
  let server: FakeApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let dir: string;
  let backend: Backend;
  const agents: AgentProcess[] = [];
  const adminPorts = new Map<string, number>();

  async function pod(namespace: string, name: string, node: string, serviceAccountName: string, ip: string, labels: Record<string, string> = {}): Promise<string> {
    const created = await core.createNamespacedPod({ namespace, body: { metadata: { name, labels }, spec: { nodeName: node, serviceAccountName, containers: [{ name: 'c', image: 'i' }] } } });
    await core.replaceNamespacedPodStatus({ namespace, name, body: { ...created, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } } });
    return created.metadata!.uid!;
  }

  /**
   * Creates each object, or replaces it in place (as `kubectl apply` does): never deletes first,
   * so no agent ever sees the objects gone, a state a test's wait could mistake for the new one.
   */
  async function apply(yamlText: string): Promise<void> {
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const doc of parseAllDocuments(yamlText)) {
      const body = doc.toJS() as { apiVersion: string; kind: string; metadata: { namespace: string; name: string; resourceVersion?: string } };
      const [group, version] = body.apiVersion.split('/') as [string, string];
      const plural = body.kind === 'TrafficTarget' ? 'traffictargets' : 'httproutegroups';
      const where = { group, version, namespace: body.metadata.namespace, plural, name: body.metadata.name };
      const current = await custom.getNamespacedCustomObject(where).catch(() => null) as { metadata?: { resourceVersion?: string } } | null;
      if (current === null) {
        await custom.createNamespacedCustomObject({ ...where, body });
      } else {
        body.metadata.resourceVersion = current.metadata?.resourceVersion;
        await custom.replaceNamespacedCustomObject({ ...where, body });
      }
    }
  }

  /** Ports are the same on every agent, as in a DaemonSet; each agent has its own pod IP. */
  async function startAgent(node: keyof typeof AGENT_IP, tunnelPort: number, issuerPort: number, adminPort: number): Promise<AgentProcess> {
    const podName = `plexus-agent-${node}`;
    const uid = await pod('plexus', podName, node, 'plexus-agent', AGENT_IP[node], AGENT_LABELS);
    const token = `token-of-${podName}`;
    server.tokens.register(token, {
      username: 'system:serviceaccount:plexus:plexus-agent',
      extra: { 'authentication.kubernetes.io/pod-name': [podName], 'authentication.kubernetes.io/pod-uid': [uid], 'authentication.kubernetes.io/node-name': [node] },
    });
    const kubeconfig = writeKubeconfig(server, join(dir, `kubeconfig-${node}`), { token });
    const agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', kubeconfig, '--namespace', 'plexus', '--node-name', node, '--listen-address', AGENT_IP[node],
      '--admin-port', String(adminPort), '--admin-address', AGENT_IP[node], '--acl', '--secure',
      '--tunnel-port', String(tunnelPort), '--issuer-port', String(issuerPort), '--cert-lifetime', '3600',
    ], { POD_NAME: podName, KUBE_LEASE_DURATION_SECONDS: '2' });
    agents.push(agent);
    return agent;
  }

  async function listenerPort(): Promise<number> {
    return eventually(async () => {
      const list = await core.listNamespacedService({ namespace: 'plexus', labelSelector: 'app.kubernetes.io/managed-by=plexus' });
      const port = list.items.find((s) => s.metadata?.annotations?.['plexus.dev/shadow-of-name'] === 'web')?.spec?.ports?.[0]?.targetPort;
      if (typeof port !== 'number') throw new Error('no shadow Service yet');
      return port;
    }, 120_000);
  }

  before(async () => {
    server = new FakeApiServer({ allowLoopbackEndpoints: true, bookmarkIntervalMs: 500 });
    await server.start();
    kc = kubeconfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
    dir = await mkdtemp(join(tmpdir(), 'plexus-kube-secure-'));
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const kind of ['TrafficTarget', 'HTTPRouteGroup', 'TrafficSplit', 'TCPRoute', 'UDPRoute']) {
      await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: smiCrd(kind) });
    }
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    await core.createNamespace({ body: { metadata: { name: 'shop', annotations: { 'plexus.dev/mesh': 'true' } } } });
    await ensureCa(core, 'plexus', 'cluster.local');
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: WEB_PORT }] } } });
    await pod('shop', 'client-a', 'node-a', 'client', CLIENT_A);
    await pod('shop', 'stranger-a', 'node-a', 'stranger', STRANGER_A);
    await pod('shop', 'web-b', 'node-b', 'web', WEB_B, { app: 'web' });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'discovery.k8s.io', version: 'v1', namespace: 'shop', plural: 'endpointslices',
      body: {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [WEB_B], nodeName: 'node-b', conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-b', namespace: 'shop' } }],
        ports: [{ name: 'http', port: WEB_PORT, protocol: 'TCP' }],
      },
    });
    await apply(httpAccess('shop', 'web-access', 'web', 'client', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]));
    backend = await httpBackend('web-b', WEB_B, WEB_PORT);
    // The admin port is the manifests' 9901: plexus check reaches it through the pod proxy.
    const [tunnelPort, issuerPort, adminPort] = [await freePort(), await freePort(), 9901];
    const a = await startAgent('node-a', tunnelPort, issuerPort, adminPort);
    const b = await startAgent('node-b', tunnelPort, issuerPort, adminPort);
    const [readyA, readyB] = await Promise.all([a.ready(), b.ready()]);
    adminPorts.set('node-a', readyA.adminPort).set('node-b', readyB.adminPort);
  });

  after(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await backend?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a request from a pod on A to the pod on B crosses the tunnel and is authorized at B', async () => {
    const port = await listenerPort();
    const answer = await eventually(async () => {
      const result = await httpCall({ host: AGENT_IP['node-a'], port, from: CLIENT_A, path: '/hello' });
      if (result.status !== 200) throw new Error(`status ${result.status}: ${result.body}`);
      return result;
    }, 120_000);
    expect(answer.body).to.equal('web-b');
    // B decided: its authorization counter names the client's verified identity.
    const bAdmin = adminPorts.get('node-b')!;
    expect(await metricValue(bAdmin, 'plexus_authorization_decisions_total', { source: 'shop/client', result: 'allowed' }, AGENT_IP['node-b'])).to.be.greaterThan(0);
    // Every certificate came from the leader, after TokenReview.
    const reviews = server.requests.filter((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews' && r.status === 201);
    expect(reviews.length).to.be.greaterThan(0);
  });

  it('a pod on A without a TrafficTarget is refused', async () => {
    const port = await listenerPort();
    const result = await httpCall({ host: AGENT_IP['node-a'], port, from: STRANGER_A, path: '/hello' });
    expect(result.status).to.equal(403);
  });

  it('a TrafficTarget change takes effect (every agent reads it from the API)', async () => {
    const port = await listenerPort();
    await apply(httpAccess('shop', 'web-access', 'web', 'client', [{ name: 'only-public', pathRegex: '/public', methods: ['GET'] }]));
    // The state meant is both at once: /hello refused and /public allowed (the new rule, not a
    // moment without any rule).
    await eventually(async () => {
      const refused = await httpCall({ host: AGENT_IP['node-a'], port, from: CLIENT_A, path: '/hello' });
      const allowed = await httpCall({ host: AGENT_IP['node-a'], port, from: CLIENT_A, path: '/public' });
      if (refused.status !== 403 || allowed.status !== 200) throw new Error(`/hello ${refused.status}, /public ${allowed.status}`);
    }, 120_000);
  });

  it('the leader writes a NetworkPolicy per meshed Service, updates it with the selector and removes it with the Service', async () => {
    const net = kc.makeApiClient(NetworkingV1Api);
    const policy = (): Promise<V1NetworkPolicy | null> => net.readNamespacedNetworkPolicy({ namespace: 'shop', name: 'plexus-api' }).catch(() => null);
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80 }] } } });
    const written = await eventually(async () => (await policy()) ?? Promise.reject(new Error('no NetworkPolicy yet')), 120_000);
    expect(written.metadata?.labels).to.deep.include({ 'app.kubernetes.io/managed-by': 'plexus' });
    expect(written.spec?.podSelector?.matchLabels).to.deep.equal({ app: 'api' });
    expect(written.spec?.ingress?.[0]?._from?.[0]).to.deep.equal({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'plexus' } },
      podSelector: { matchLabels: AGENT_LABELS },
    });
    // The Service it guards moves to other pods: so does the policy.
    const current = await core.readNamespacedService({ namespace: 'shop', name: 'api' });
    await core.replaceNamespacedService({ namespace: 'shop', name: 'api', body: { ...current, spec: { ...current.spec, selector: { app: 'api', track: 'v2' } } } });
    await eventually(async () => {
      if ((await policy())?.spec?.podSelector?.matchLabels?.track !== 'v2') throw new Error('not updated yet');
    }, 120_000);
    await core.deleteNamespacedService({ namespace: 'shop', name: 'api' });
    await eventually(async () => {
      if ((await policy()) !== null) throw new Error('still there');
    }, 120_000);
    // The Service the other tests use keeps its own.
    expect(await net.readNamespacedNetworkPolicy({ namespace: 'shop', name: 'plexus-web' })).to.have.nested.property('metadata.name', 'plexus-web');
  });

  it('plexus check reports the mesh CA, the agents\' certificates and permissive mode, and what NetworkPolicies depend on', async () => {
    const kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig-user'));
    const check = await runPlexus(['check', '--kubeconfig', kubeconfig], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    expect(check.stdout, check.stderr).to.match(/^ok {4}mesh CA: root ".*plexus mesh root .*" valid until \S+$/m);
    expect(check.stdout, check.stdout).to.match(/^ok {4}secure agents: 2 of 2 agents asked run secure mode; permissive mode off; certificates current$/m);
    expect(check.stdout).to.match(/^ok {4}NetworkPolicies: \d+ written by the leader, .*only where the network plugin enforces NetworkPolicy/m);
  });

  // Last: stops the leader.
  it('when the leader goes, the next leader issues: a new ServiceAccount on B gets its certificate', async () => {
    const holder = (): Promise<string> => kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'plexus', name: 'plexus-leader' })
      .then((lease) => lease.spec?.holderIdentity ?? '');
    const leading = await holder();
    const [leader, survivor] = leading.startsWith('node-a/') ? [agents[0]!, 'node-b' as const] : [agents[1]!, 'node-a' as const];
    process.kill(leader.pid!, 'SIGKILL');
    await leader.exited;
    await eventually(async () => {
      if (!(await holder()).startsWith(`${survivor}/`)) throw new Error('not leading yet');
    }, 120_000);
    await pod('shop', 'api-1', survivor, 'api', survivor === 'node-b' ? '127.0.72.30' : '127.0.72.31');
    const held = await eventually(async () => {
      const view = await (await fetch(`http://${AGENT_IP[survivor]}:9901/config`)).json() as { secure: { certificates: { identity: string; signedBy: string }[] } };
      const cert = view.secure.certificates.find((c) => c.identity === 'shop/api');
      if (cert === undefined) throw new Error('no certificate for shop/api yet');
      return cert;
    }, 120_000);
    expect(held.signedBy).to.match(/plexus mesh root/);
  });

  it('every API request the agents made (secure mode, leading and not) is granted by manifests/30-rbac.yaml and asked about by plexus check', () => {
    const audit = auditAgentRequests(server.requests, (authorization) => authorization.startsWith('Bearer token-of-plexus-agent-'));
    for (const call of ['create authentication.k8s.io/tokenreviews', 'create networking.k8s.io/networkpolicies in shop', 'get core/secrets/plexus-ca in plexus']) {
      expect(audit.calls, call).to.include(call);
    }
    expect(audit.denied, 'calls the RBAC of manifests/ denies').to.deep.equal([]);
    expect(audit.unchecked, 'calls plexus check does not ask about').to.deep.equal([]);
  });
});

describe('kube mode, secure: starting without what secure mode needs', function () {
  this.timeout(180_000);
  let server: FakeApiServer;
  let dir: string;

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    await kubeconfigFor(server).makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'plexus' } } });
    dir = await mkdtemp(join(tmpdir(), 'plexus-kube-secure-'));
  });
  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (): AgentProcess => new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
    'agent', '--kubeconfig', writeKubeconfig(server, join(dir, 'kubeconfig'), { token: 'unknown' }), '--node-name', 'node-a',
    '--listen-address', '127.0.73.1', '--admin-port', '0', '--admin-address', '127.0.0.1', '--secure', '--tunnel-port', '0', '--issuer-port', '0',
  ], { POD_NAME: 'plexus-agent-x' });

  it('without the mesh CA it stops at once and says to run plexus prepare', async () => {
    const agent = start();
    const failure = await agent.ready().then(() => null, (err: Error) => err);
    expect(failure?.message, failure?.message).to.match(/no ConfigMap plexus\/plexus-ca-bundle: create the mesh CA with plexus prepare/);
    expect(await agent.exited).to.equal(2);
  });

  it('waiting for its certificate (no issuer will accept its token), it stops cleanly when asked', async () => {
    await ensureCa(kubeconfigFor(server).makeApiClient(CoreV1Api), 'plexus', 'cluster.local');
    const agent = start();
    // It asks, is refused, and keeps waiting: the leader Lease shows it has started.
    await eventually(async () => {
      if (!server.requests.some((r) => r.path.endsWith('/leases/plexus-leader') && r.status < 300 && r.method !== 'GET')) throw new Error('not started');
    }, 120_000);
    expect(await agent.stop()).to.equal(0);
  });
});
