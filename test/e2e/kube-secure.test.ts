/**
 * Secure mode in Kubernetes mode, with the real binaries against the fake API server: `plexus
 * issuer` (the issuer Deployment) and three agents as nodes A, B and C (each its own pod IP on
 * loopback, its own pod-bound ServiceAccount token). The mesh CA is made as `plexus prepare`
 * makes it; the issuer issues every agent's certificates after TokenReview; a client pod on A
 * calls a Service whose pod is on B: the request crosses the tunnel to B's agent (found from the
 * agent pods) and is authorized at B. C runs plain mode, as during a rollout switching secure
 * mode: A dials C's pods directly, C dials B's directly. Also: the leader's NetworkPolicies,
 * `plexus check`, issuance whichever agent leads, and the RBAC of every call.
 * Addresses of this file: agent pods 127.0.71.1-3, the issuer 127.0.71.9, workload pods 127.0.72.0/24.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig, type V1NetworkPolicy } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { ensureCa } from '../../src/issuer/ca-store.js';
import { kubeconfigFor, writeKubeconfig } from '../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../fake-apiserver/server.js';
import { PLEXUS_ARGV } from '../helpers/paths.js';
import { smiCrd } from '../unit/kube/fixtures.js';
import { httpBackend, httpCall, type Backend } from './helpers/backends.js';
import { httpAccess } from './helpers/manifests.js';
import { eventually, metricValue, runPlexus } from './helpers/plexus.js';
import { auditAgentRequests } from './helpers/rbac-audit.js';

const AGENT_IP = { 'node-a': '127.0.71.1', 'node-b': '127.0.71.2', 'node-c': '127.0.71.3' } as const;
const ISSUER_IP = '127.0.71.9';
const CLIENT_A = '127.0.72.10';
const STRANGER_A = '127.0.72.11';
const CLIENT_C = '127.0.72.12';
const WEB_B = '127.0.72.20';
const CART_C = '127.0.72.21';
const WEB_PORT = 8080;
const AGENT_LABELS = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('kube mode, secure: the issuer, three agents (one plain), traffic across the tunnel', function () {
  this.timeout(300_000);
  let server: FakeApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let dir: string;
  const backends: Backend[] = [];
  let issuer: AgentProcess;
  const agents: AgentProcess[] = [];
  const adminPorts = new Map<string, number>();

  async function pod(namespace: string, name: string, node: string, serviceAccountName: string, ip: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Promise<string> {
    const created = await core.createNamespacedPod({ namespace, body: { metadata: { name, labels, annotations }, spec: { nodeName: node, serviceAccountName, containers: [{ name: 'c', image: 'i' }] } } });
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

  async function leaseHolder(): Promise<string> {
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'plexus', name: 'plexus-leader' }).catch(() => null);
    return lease?.spec?.holderIdentity ?? '';
  }

  /** Sets `plexus.dev/secure` on an agent's pod (what its pod template says). */
  async function advertise(node: keyof typeof AGENT_IP, secure: boolean): Promise<void> {
    const name = `plexus-agent-${node}`;
    const current = await core.readNamespacedPod({ namespace: 'plexus', name });
    await core.replaceNamespacedPod({ namespace: 'plexus', name, body: { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, 'plexus.dev/secure': String(secure) } } } });
  }

  /** Ports are the same on every agent, as in a DaemonSet; each agent has its own pod IP. */
  async function startAgent(node: keyof typeof AGENT_IP, tunnelPort: number, issuerPort: number, adminPort: number, secure = true): Promise<AgentProcess> {
    const podName = `plexus-agent-${node}`;
    const uid = await pod('plexus', podName, node, 'plexus-agent', AGENT_IP[node], AGENT_LABELS, { 'plexus.dev/secure': String(secure) });
    const token = `token-of-${podName}`;
    server.tokens.register(token, {
      username: 'system:serviceaccount:plexus:plexus-agent',
      extra: { 'authentication.kubernetes.io/pod-name': [podName], 'authentication.kubernetes.io/pod-uid': [uid], 'authentication.kubernetes.io/node-name': [node] },
    });
    const kubeconfig = writeKubeconfig(server, join(dir, `kubeconfig-${node}`), { token });
    const agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', kubeconfig, '--namespace', 'plexus', '--node-name', node, '--listen-address', AGENT_IP[node],
      '--admin-port', String(adminPort), '--admin-address', AGENT_IP[node], '--acl', '--drain-window', '0',
      ...(secure ? ['--secure', '--tunnel-port', String(tunnelPort), '--issuer-address', ISSUER_IP, '--issuer-port', String(issuerPort)] : []),
    ], { POD_NAME: podName, KUBE_LEASE_DURATION_SECONDS: '2' });
    agents.push(agent);
    return agent;
  }

  async function listenerPort(service = 'web'): Promise<number> {
    return eventually(async () => {
      const list = await core.listNamespacedService({ namespace: 'plexus', labelSelector: 'app.kubernetes.io/managed-by=plexus' });
      const port = list.items.find((s) => s.metadata?.annotations?.['plexus.dev/shadow-of-name'] === service)?.spec?.ports?.[0]?.targetPort;
      if (typeof port !== 'number') throw new Error('no shadow Service yet');
      return port;
    }, 120_000);
  }

  /** `plexus issuer` as the Deployment runs it, with the issuer ServiceAccount's token; ready once /readyz says so. */
  async function startIssuer(port: number): Promise<AgentProcess> {
    const adminPort = await freePort();
    const kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig-issuer'), { token: 'token-of-plexus-issuer' });
    const started = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'issuer', '--kubeconfig', kubeconfig, '--namespace', 'plexus', '--listen-address', ISSUER_IP, '--port', String(port),
      '--admin-address', ISSUER_IP, '--admin-port', String(adminPort), '--cert-lifetime', '3600', '--drain-window', '0',
    ]);
    await eventually(async () => {
      const response = await fetch(`http://${ISSUER_IP}:${adminPort}/readyz`);
      if (response.status !== 200) throw new Error(`issuer not ready: ${await response.text()}`);
    }, 120_000);
    return started;
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
    for (const [name, node, ip, sa] of [['web', 'node-b', WEB_B, 'web'], ['cart', 'node-c', CART_C, 'cart']] as const) {
      await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: WEB_PORT }] } } });
      await pod('shop', `${name}-1`, node, sa, ip, { app: name });
      await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        group: 'discovery.k8s.io', version: 'v1', namespace: 'shop', plural: 'endpointslices',
        body: {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
          addressType: 'IPv4',
          endpoints: [{ addresses: [ip], nodeName: node, conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-1`, namespace: 'shop' } }],
          ports: [{ name: 'http', port: WEB_PORT, protocol: 'TCP' }],
        },
      });
      backends.push(await httpBackend(`${name}-1`, ip, WEB_PORT));
    }
    await pod('shop', 'client-a', 'node-a', 'client', CLIENT_A);
    await pod('shop', 'stranger-a', 'node-a', 'stranger', STRANGER_A);
    await pod('shop', 'client-c', 'node-c', 'client', CLIENT_C);
    await apply(httpAccess('shop', 'web-access', 'web', 'client', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]));
    await apply(httpAccess('shop', 'cart-access', 'cart', 'client', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]));
    // The admin port is the manifests' 9901: plexus check reaches it through the pod proxy.
    const [tunnelPort, issuerPort, adminPort] = [await freePort(), await freePort(), 9901];
    issuer = await startIssuer(issuerPort);
    // C (plain) starts first and leads, as an old plain agent does while `plexus secure on` rolls
    // the others: the NetworkPolicies follow the mesh's mode, not the leader's.
    const c = await startAgent('node-c', tunnelPort, issuerPort, adminPort, false);
    const readyC = await c.ready();
    await eventually(async () => {
      if (!(await leaseHolder()).startsWith('node-c/')) throw new Error('C does not lead yet');
    }, 60_000);
    const a = await startAgent('node-a', tunnelPort, issuerPort, adminPort);
    const b = await startAgent('node-b', tunnelPort, issuerPort, adminPort);
    const [readyA, readyB] = await Promise.all([a.ready(), b.ready()]);
    adminPorts.set('node-a', readyA.adminPort).set('node-b', readyB.adminPort).set('node-c', readyC.adminPort);
  });

  after(async () => {
    await Promise.all([...agents.splice(0), ...(issuer ? [issuer] : [])].map((process) => process.stop()));
    await Promise.all(backends.splice(0).map((backend) => backend.close()));
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
    expect(answer.body).to.equal('web-1');
    // B decided: its authorization counter names the client's verified identity.
    const bAdmin = adminPorts.get('node-b')!;
    expect(await metricValue(bAdmin, 'plexus_authorization_decisions_total', { source: 'shop/client', result: 'allowed' }, AGENT_IP['node-b'])).to.be.greaterThan(0);
    // Every certificate came from the issuer, after TokenReview with its own credentials.
    const reviews = server.requests.filter((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews' && r.status === 201);
    expect(reviews.length).to.be.greaterThan(0);
    expect(reviews.every((r) => r.authorization === 'Bearer token-of-plexus-issuer')).to.equal(true);
  });

  it('while C runs plain mode (a switch in progress), A dials C\'s pods directly and C reaches B\'s pods directly', async () => {
    const cart = await listenerPort('cart');
    const fromA = await eventually(async () => {
      const result = await httpCall({ host: AGENT_IP['node-a'], port: cart, from: CLIENT_A, path: '/cart' });
      if (result.status !== 200) throw new Error(`status ${result.status}: ${result.body}`);
      return result;
    }, 120_000);
    expect(fromA.body).to.equal('cart-1');
    const view = await (await fetch(`http://${AGENT_IP['node-a']}:${adminPorts.get('node-a')!}/config`)).json() as { secure: { peers: Record<string, string> } };
    expect(view.secure.peers['node-c']).to.equal('plain mode: dialled directly');
    expect(view.secure.peers['node-b']).to.match(/^127\.0\.71\.2:\d+$/);
    const fromC = await eventually(async () => {
      const result = await httpCall({ host: AGENT_IP['node-c'], port: await listenerPort('web'), from: CLIENT_C, path: '/web' });
      if (result.status !== 200) throw new Error(`status ${result.status}: ${result.body}`);
      return result;
    }, 120_000);
    expect(fromC.body).to.equal('web-1');
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

  it('the plain leader keeps the NetworkPolicies while any agent advertises secure mode, and removes them once none does', async () => {
    const net = kc.makeApiClient(NetworkingV1Api);
    const policies = async (): Promise<string[]> => (await net.listNetworkPolicyForAllNamespaces({ labelSelector: 'app.kubernetes.io/managed-by=plexus' })).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort();
    expect(await leaseHolder()).to.match(/^node-c\//);
    expect(await policies()).to.deep.equal(['shop/plexus-cart', 'shop/plexus-web']);
    // A switch back to plain mode: A's pod is replaced by a plain one first; B still runs secure mode.
    await advertise('node-a', false);
    await eventually(async () => {
      const view = await (await fetch(`http://${AGENT_IP['node-b']}:${adminPorts.get('node-b')!}/config`)).json() as { secure: { peers: Record<string, string> } };
      if (view.secure.peers['node-a'] !== 'plain mode: dialled directly') throw new Error(`B sees A as ${view.secure.peers['node-a']}`);
    }, 60_000);
    expect(await policies()).to.deep.equal(['shop/plexus-cart', 'shop/plexus-web']);
    // The last secure agent gone plain: the policies go.
    await advertise('node-b', false);
    await eventually(async () => {
      const left = await policies();
      if (left.length > 0) throw new Error(`still there: ${left.join(', ')}`);
    }, 60_000);
    // And back (a switch to secure mode starts): the first secure agent brings them back.
    await advertise('node-a', true);
    await advertise('node-b', true);
    await eventually(async () => {
      const back = await policies();
      if (back.length !== 2) throw new Error(`back so far: ${back.join(', ')}`);
    }, 60_000);
  });

  /** The DaemonSet and the issuer Deployment as manifests/ make them (the fake API server runs no controllers). */
  async function installWorkloads(secureTemplate: string, readyIssuers: number): Promise<void> {
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { ...AGENT_LABELS };
    await apps.createNamespacedDaemonSet({ namespace: 'plexus', body: {
      metadata: { name: 'plexus-agent' },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels, annotations: { 'plexus.dev/secure': secureTemplate } }, spec: { containers: [{ name: 'agent', image: 'i' }] } } },
    } });
    const issuerLabels = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'issuer' };
    const deployment = await apps.createNamespacedDeployment({ namespace: 'plexus', body: {
      metadata: { name: 'plexus-issuer' },
      spec: { replicas: 2, selector: { matchLabels: issuerLabels }, template: { metadata: { labels: issuerLabels }, spec: { containers: [{ name: 'issuer', image: 'i' }] } } },
    } });
    await apps.replaceNamespacedDeploymentStatus({ namespace: 'plexus', name: 'plexus-issuer', body: { ...deployment, status: { replicas: 2, readyReplicas: readyIssuers } } });
  }

  it('plexus check reports where secure mode stands, the mesh CA, the agents\' certificates and permissive mode, and what NetworkPolicies depend on', async () => {
    await installWorkloads('true', 2);
    const kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig-user'));
    const check = await runPlexus(['check', '--kubeconfig', kubeconfig], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    expect(check.stdout, check.stderr).to.match(/^warn {2}secure mode: switching on: 2 of 3 agents run secure mode \(the agents are rolling out; .*\); issuer 2 of 2 ready$/m);
    expect(check.stdout, check.stderr).to.match(/^ok {4}mesh CA: root ".*plexus mesh root .*" valid until \S+$/m);
    expect(check.stdout, check.stdout).to.match(/^ok {4}secure agents: 2 of 3 agents asked run secure mode; permissive mode off; certificates current$/m);
    expect(check.stdout).to.match(/^ok {4}NetworkPolicies: \d+ written by the leader, .*only where the network plugin enforces NetworkPolicy/m);
  });

  it('plexus secure off and on switch the agent pod template; on waits for a ready issuer and creates no second CA', async () => {
    const kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig-user'));
    const template = async (): Promise<string | undefined> => (await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ namespace: 'plexus', name: 'plexus-agent' }))
      .spec?.template.metadata?.annotations?.['plexus.dev/secure'];
    const off = await runPlexus(['secure', 'off', '--kubeconfig', kubeconfig], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    expect(off.code, off.stderr).to.equal(0);
    expect(off.stdout).to.match(/secure mode off: the agents roll out now/);
    expect(await template()).to.equal('false');
    const on = await runPlexus(['secure', 'on', '--kubeconfig', kubeconfig], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    expect(on.code, on.stderr).to.equal(0);
    expect(on.stdout).to.match(/mesh CA: Secret plexus\/plexus-ca exists .*left as it is/);
    expect(on.stdout).to.match(/issuer: ready/);
    expect(await template()).to.equal('true');
    const again = await runPlexus(['secure', 'on', '--kubeconfig', kubeconfig], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    expect(again.stdout).to.match(/secure mode is already on in the agent pod template; nothing changed/);
    // Without a ready issuer, on refuses to roll the agents into a state where they could not get certificates.
    const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'plexus', name: 'plexus-issuer' });
    await kc.makeApiClient(AppsV1Api).replaceNamespacedDeploymentStatus({ namespace: 'plexus', name: 'plexus-issuer', body: { ...deployment, status: { replicas: 2, readyReplicas: 0 } } });
    await runPlexus(['secure', 'off', '--kubeconfig', kubeconfig], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    const refused = await runPlexus(['secure', 'on', '--kubeconfig', kubeconfig, '--wait', '1'], 180_000, { KUBERNETES_SERVICE_HOST: '' });
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/the issuer has no ready replica after 1 s, so new agents could not get certificates: the agents were left as they are/);
    expect(await template()).to.equal('false');
  });

  // Last: stops a secure agent.
  it('issuance does not depend on who leads: with a secure agent killed, a new ServiceAccount on the other gets its certificate', async () => {
    const killed = agents[0]!;
    process.kill(killed.pid!, 'SIGKILL');
    await killed.exited;
    await pod('shop', 'api-1', 'node-b', 'api', '127.0.72.30');
    const held = await eventually(async () => {
      const view = await (await fetch(`http://${AGENT_IP['node-b']}:9901/config`)).json() as { secure: { certificates: { identity: string; signedBy: string }[] } };
      const cert = view.secure.certificates.find((c) => c.identity === 'shop/api');
      if (cert === undefined) throw new Error('no certificate for shop/api yet');
      return cert;
    }, 120_000);
    expect(held.signedBy).to.match(/plexus mesh root/);
  });

  it('every API request the agents and the issuer made is granted by manifests/30-rbac.yaml and asked about by plexus check; agents read no Secret', () => {
    const agentAudit = auditAgentRequests(server.requests, (authorization) => authorization.startsWith('Bearer token-of-plexus-agent-'), 'plexus-agent');
    expect(agentAudit.calls).to.include('create networking.k8s.io/networkpolicies in shop');
    expect(agentAudit.calls.filter((call) => call.includes('secrets') || call.includes('tokenreviews'))).to.deep.equal([]);
    const issuerAudit = auditAgentRequests(server.requests, (authorization) => authorization === 'Bearer token-of-plexus-issuer', 'plexus-issuer');
    for (const call of ['create authentication.k8s.io/tokenreviews', 'get core/secrets/plexus-ca in plexus']) expect(issuerAudit.calls, call).to.include(call);
    for (const audit of [agentAudit, issuerAudit]) {
      expect(audit.denied, 'calls the RBAC of manifests/ denies').to.deep.equal([]);
      expect(audit.unchecked, 'calls plexus check does not ask about').to.deep.equal([]);
    }
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
