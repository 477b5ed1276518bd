/**
 * Secure mode on the real cluster (issue 21): switched on and off by rollouts under load, the
 * issuer Deployment (rolled, killed while agents renew, refusing what it must refuse), agents
 * rolled in secure mode, and the CA rotated under load. Two bounded loads run through every
 * change: `client` with keep-alive connections, `stranger` with a new connection per request;
 * every request must be answered. Ends in plain mode, as the other files expect.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { runPlexus } from '../e2e/helpers/plexus.js';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { agentsRolledOut, ensureInstalled, MESH_NAMESPACE } from './helpers/install.js';
import { ensureShop, SHOP, type Shop } from './helpers/shop.js';
import { applyAll, ClientPod, clientPod, failures, podsReady, scriptsConfigMap, type Load, type LoadResult } from './helpers/workloads.js';

const URL = `http://web.${SHOP}.plexus/`;
const ISSUER = `https://plexus-issuer.${MESH_NAMESPACE}.svc:15012/v1/certificates`;
const TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

interface PodList {
  readonly items: readonly { readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> } }[];
}

describe('cluster: secure mode by rollouts, the issuer, draining (issue 21)', function () {
  this.timeout(1_200_000);
  let cluster: TestCluster;
  let shop: Shop;
  let loads: { keepAlive: Load; fresh: Load } | null = null;

  const plexus = async (...args: string[]): Promise<string> => {
    const run = await runPlexus([...args, '--kubeconfig', cluster.target.kubeconfig], 300_000, { KUBERNETES_SERVICE_HOST: '' });
    if (run.code !== 0) throw new Error(`plexus ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
    return run.stdout;
  };
  const checkLine = async (name: string): Promise<string> => {
    const run = await runPlexus(['check', '--kubeconfig', cluster.target.kubeconfig], 300_000, { KUBERNETES_SERVICE_HOST: '' });
    return run.stdout.split('\n').find((line) => line.slice(6).startsWith(`${name}:`)) ?? `(no ${name} line) ${run.stdout}`;
  };
  const agentPods = async (): Promise<PodList> => (await cluster.kubectl.get<PodList>(['pods', '-n', MESH_NAMESPACE, '-l', 'app.kubernetes.io/component=agent', '--field-selector=status.phase=Running'])) ?? { items: [] };
  /** An agent's /config (loopback only): read inside its pod with the node of the image. */
  const agentConfig = async (pod: string): Promise<{ secure?: { certificates?: { identity: string; signedBy: string; notAfter: string }[] } }> => {
    const script = "fetch('http://127.0.0.1:9901/config').then((r) => r.text()).then((t) => process.stdout.write(t))";
    return JSON.parse(await cluster.kubectl.ok(['exec', '-n', MESH_NAMESPACE, pod, '--', 'node', '-e', script])) as never;
  };
  const issuerRolledOut = (): Promise<string> => cluster.kubectl.ok(['rollout', 'status', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer', '--timeout=240s'], { timeoutMs: 250_000 });
  const secureEverywhere = (): Promise<string> => until('every agent to run secure mode', async () => {
    const line = await checkLine('secure mode');
    return /^ok {4}secure mode: on: (\d+) of \1 agents run secure mode/.test(line) ? line : Promise.reject(new Error(line));
  }, 300_000);
  const plainEverywhere = (): Promise<string> => until('every agent to run plain mode', async () => {
    const line = await checkLine('secure mode');
    return /^skip {2}secure mode: off/.test(line) ? line : Promise.reject(new Error(line));
  }, 300_000);

  function startLoads(): void {
    // Bounded: at most 60000 requests or 900 s each; stopped at the end of the test.
    loads = {
      keepAlive: shop.client.load(URL, { maxRequests: 60_000, maxSeconds: 900, concurrency: 2 }),
      fresh: shop.stranger.load(URL, { maxRequests: 60_000, maxSeconds: 900, concurrency: 2, newConnections: true }),
    };
  }
  async function stopLoads(): Promise<LoadResult[]> {
    const running = loads;
    loads = null;
    if (running === null) return [];
    const results = await Promise.all([running.keepAlive.stop(), running.fresh.stop()]);
    for (const [which, result] of [['keep-alive', results[0]!], ['new connection per request', results[1]!]] as const) {
      expect(result.stopped, `${which}: the load ended before the test did: ${JSON.stringify(result)}`).to.equal(true);
      expect(result.sent, `${which}: ${JSON.stringify(result)}`).to.be.greaterThan(0);
      expect(failures(result), `${which}: requests that failed: ${JSON.stringify(result)}`).to.equal(0);
    }
    return results;
  }

  before(async function () {
    cluster = clusterUnderTest(this);
    await ensureInstalled(cluster);
    shop = await ensureShop(cluster);
    await until('web.shop.plexus to answer', async () => ((await shop.client.get(URL)).status === 200 ? true : undefined));
  });

  afterEach(async () => {
    await stopLoads().catch(() => undefined);
  });

  after(async () => {
    // The next files run in plain mode.
    if (cluster === undefined) return;
    await plexus('secure', 'off').catch(() => undefined);
    await agentsRolledOut(cluster).catch(() => undefined);
  });

  it('plain → secure → plain by rollouts under load: no failed request, no hand-edited args', async () => {
    startLoads();
    const on = await plexus('secure', 'on');
    expect(on).to.match(/issuer: ready/);
    await agentsRolledOut(cluster);
    await secureEverywhere();
    for (const pod of (await agentPods()).items) expect(pod.metadata.annotations?.['plexus.dev/secure'], pod.metadata.name).to.equal('true');
    const off = await plexus('secure', 'off');
    expect(off).to.match(/secure mode off: the agents roll out now/);
    await agentsRolledOut(cluster);
    await plainEverywhere();
    await stopLoads();
  });

  it('in secure mode, kubectl rollout restart of the issuer and then of the agents drops no request; the new agents get certificates', async () => {
    await plexus('secure', 'on');
    await agentsRolledOut(cluster);
    await secureEverywhere();
    startLoads();
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer']);
    await issuerRolledOut();
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'daemonset/plexus-agent']);
    await agentsRolledOut(cluster);
    // The new agents are ready only with their own certificate, which came from the new issuer pods.
    for (const pod of (await agentPods()).items) {
      const held = (await agentConfig(pod.metadata.name)).secure?.certificates?.map((c) => c.identity) ?? [];
      expect(held, pod.metadata.name).to.include('node/' + (await cluster.kubectl.ok(['get', 'pod', '-n', MESH_NAMESPACE, pod.metadata.name, '-o', 'jsonpath={.spec.nodeName}'])).trim());
    }
    await stopLoads();
  });

  it('the issuer refuses a token bound to no pod, a pod that is not an agent, and an agent asking for another node', async () => {
    const publicKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const body = (identity: string): string => JSON.stringify({ requests: [{ identity, publicKey }] });
    // From a pod of the mesh namespace that runs as the agents' ServiceAccount but is no agent.
    await applyAll(cluster, [scriptsConfigMap(MESH_NAMESPACE), { ...clientPod(cluster, MESH_NAMESPACE, 'impostor', 'plexus-agent'), metadata: { name: 'impostor', namespace: MESH_NAMESPACE, labels: { role: 'impostor' } } }]);
    await podsReady(cluster, MESH_NAMESPACE, 'role=impostor');
    const impostor = new ClientPod(cluster, MESH_NAMESPACE, 'impostor');
    const post = async (token: string, identity: string): Promise<{ status: number; body: string }> => {
      const out = await impostor.exec(['sh', '-c', 'curl -sk --tlsv1.3 -m 10 -w "\\n%{http_code}" -H "authorization: Bearer $0" -H "content-type: application/json" -d "$1" "$2"', token, body(identity), ISSUER]);
      const lines = out.stdout.trimEnd().split('\n');
      return { status: Number(lines.pop()), body: lines.join('\n') };
    };
    const unbound = (await cluster.kubectl.ok(['create', 'token', 'plexus-agent', '-n', MESH_NAMESPACE, '--duration=10m'])).trim();
    const notBound = await post(unbound, 'node/kube-node-1');
    expect(notBound.status, notBound.body).to.equal(401);
    expect(notBound.body).to.match(/not bound to a pod/);
    const own = (await impostor.exec(['cat', TOKEN_FILE])).stdout.trim();
    const notAgent = await post(own, 'node/kube-node-1');
    expect(notAgent.status, notAgent.body).to.equal(401);
    expect(notAgent.body).to.match(/is not an agent pod/);
    const agent = (await agentPods()).items[0]!.metadata.name;
    const agentToken = (await cluster.kubectl.ok(['exec', '-n', MESH_NAMESPACE, agent, '--', 'node', '-e', `process.stdout.write(require('fs').readFileSync('${TOKEN_FILE}', 'utf8'))`])).trim();
    for (const identity of ['node/another-node', 'shop/nobody']) {
      const refused = await post(agentToken, identity);
      expect(refused.status, refused.body).to.equal(200);
      const answer = JSON.parse(refused.body) as { certificates: unknown[]; refused: { identity: string; reason: string }[] };
      expect(answer.certificates, identity).to.deep.equal([]);
      expect(answer.refused.map((r) => r.identity)).to.deep.equal([identity]);
    }
    await cluster.kubectl.ok(['delete', 'pod', '-n', MESH_NAMESPACE, 'impostor', '--wait=false']);
  });

  it('an issuer replica killed while the agents renew: renewals go on through the other, traffic goes on', async () => {
    // Short certificates (60 s, renewed every 30 s): an issuer rollout, then the agents take them.
    await cluster.kubectl.ok(['set', 'env', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer', 'PLEXUS_CERT_LIFETIME=60']);
    await issuerRolledOut();
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'daemonset/plexus-agent']);
    await agentsRolledOut(cluster);
    startLoads();
    const agent = (await agentPods()).items[0]!.metadata.name;
    const ownEnd = async (): Promise<number> => {
      const certs = (await agentConfig(agent)).secure?.certificates ?? [];
      return Math.max(0, ...certs.filter((c) => c.identity.startsWith('node/')).map((c) => Date.parse(c.notAfter)));
    };
    for (let kill = 0; kill < 3; kill++) {
      const before = await ownEnd();
      const issuers = (await cluster.kubectl.get<PodList>(['pods', '-n', MESH_NAMESPACE, '-l', 'app.kubernetes.io/component=issuer', '--field-selector=status.phase=Running']))?.items ?? [];
      await cluster.kubectl.ok(['delete', 'pod', '-n', MESH_NAMESPACE, issuers[0]!.metadata.name, '--grace-period=0', '--force', '--wait=false']);
      await until('the agent to renew its certificate after the kill', async () => ((await ownEnd()) > before ? true : undefined), 180_000);
    }
    await stopLoads();
    await cluster.kubectl.ok(['set', 'env', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer', 'PLEXUS_CERT_LIFETIME-']);
    await issuerRolledOut();
  });

  it('the CA rotated under load: agents move to the new root, the old one is retired, no failed request', async () => {
    startLoads();
    await plexus('ca', 'rotate', '--wait', '20');
    const bundle = await cluster.kubectl.get<{ data: { 'ca.crt': string } }>(['configmap', '-n', MESH_NAMESPACE, 'plexus-ca-bundle']);
    const newRoot = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(bundle!.data['ca.crt'])![0]).subject.replaceAll('\n', ', ');
    await until('every agent certificate signed by the new root', async () => {
      for (const pod of (await agentPods()).items) {
        const certs = (await agentConfig(pod.metadata.name)).secure?.certificates ?? [];
        if (certs.length === 0 || certs.some((c) => c.signedBy !== newRoot)) throw new Error(`${pod.metadata.name}: ${JSON.stringify(certs.map((c) => c.signedBy))}`);
      }
      return true;
    }, 240_000);
    await plexus('ca', 'retire', '--force');
    expect(await checkLine('mesh CA')).to.match(/^ok/);
    await stopLoads();
  });
});
