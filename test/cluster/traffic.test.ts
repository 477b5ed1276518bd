/**
 * The user's path with a node, plain mode: Plexus installed with `kubectl apply -f manifests/`
 * (the image built from a clean clone), DNS set up by the install, and pods calling
 * `<svc>.<ns>.plexus`: HTTP, a TrafficSplit, retries, TCP, UDP, a Service opted in and out,
 * endpoints scaled. Every step waits for the state it means (traffic answering as it should),
 * bounded; the agents' metrics show the traffic went through them.
 */
import { expect } from 'chai';
import { agentMetric, shadowClusterIp } from './helpers/agents.js';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { ensureInstalled } from './helpers/install.js';
import { ensureShop, SHOP, type Shop } from './helpers/shop.js';
import { answering, failures, type LoadResult } from './helpers/workloads.js';

const WEB = `http://web.${SHOP}.plexus/`;

/** Pods that answered, grouped by the Deployment their name starts with. */
function answeredBy(result: LoadResult, prefix: string): number {
  return Object.entries(result.answeredBy).filter(([pod]) => pod.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0);
}

describe('cluster: the user\'s path, plain mode (install, DNS, HTTP, split, retries, TCP, UDP, opt-in, scaling)', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let shop: Shop;

  before(async function () {
    cluster = clusterUnderTest(this);
    await ensureInstalled(cluster);
    shop = await ensureShop(cluster);
  });

  it('the install set DNS up: web.shop.plexus resolves in a pod to the shadow Service of shop/web', async () => {
    const ip = await until('the shadow Service of shop/web', () => shadowClusterIp(cluster, SHOP, 'web'));
    await until(`web.${SHOP}.plexus to resolve to ${ip}`, async () => {
      const answers = await shop.client.resolve(`web.${SHOP}.plexus`);
      if (answers.join() !== ip) throw new Error(`resolves to [${answers.join(', ')}]`);
      return true;
    });
  });

  it('HTTP: a pod calls web.shop.plexus and a web pod answers, through its node\'s agent', async () => {
    const before = await agentMetric(cluster, 'plexus_requests_total', { destination_service: 'web', status_code: '200' });
    const answer = await answering(shop.client, WEB, (a) => a.status === 200, 'web.shop.plexus to answer 200');
    expect(answer.body).to.match(/^web-v[12]-/);
    expect(await agentMetric(cluster, 'plexus_requests_total', { destination_service: 'web', status_code: '200' })).to.be.greaterThan(before);
  });

  it('split: a TrafficSplit sends every request to v2, then to both; deleting it restores the Service', async () => {
    const split = (v1: number, v2: number): string => JSON.stringify({
      apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'web-split', namespace: SHOP },
      spec: { service: 'web', backends: [{ service: 'web-v1', weight: v1 }, { service: 'web-v2', weight: v2 }] },
    });
    await cluster.kubectl.apply(split(0, 100));
    await until('every request to go to web-v2', async () => {
      const result = await shop.client.count(WEB, 20);
      return answeredBy(result, 'web-v2-') === 20 ? true : undefined;
    });
    await cluster.kubectl.apply(split(50, 50));
    // 40 requests all to one side at 50/50: chance 2^-39.
    await until('requests to go to both web-v1 and web-v2', async () => {
      const result = await shop.client.count(WEB, 40);
      return answeredBy(result, 'web-v1-') > 0 && answeredBy(result, 'web-v2-') > 0 && answeredBy(result, 'web-') === 40 ? true : undefined;
    });
    await cluster.kubectl.ok(['delete', 'trafficsplit', '-n', SHOP, 'web-split']);
  });

  it('retries: flaky fails every 2nd request; with retry-attempts "3" every request succeeds, with "0" half fail', async () => {
    const url = `http://flaky.${SHOP}.plexus/`;
    await until('every request to flaky to succeed (retried)', async () => {
      const result = await shop.client.count(url, 20);
      return result.statuses['200'] === 20 ? true : undefined;
    });
    expect(await agentMetric(cluster, 'plexus_retries_total', { destination_service: 'flaky' })).to.be.greaterThan(0);
    await cluster.kubectl.ok(['annotate', '--overwrite', 'service', '-n', SHOP, 'flaky', 'plexus.dev/retry-attempts=0']);
    try {
      await until('requests to flaky to fail without retries', async () => {
        const result = await shop.client.count(url, 10);
        return result.statuses['503'] === 5 ? true : undefined;
      });
    } finally {
      await cluster.kubectl.ok(['annotate', '--overwrite', 'service', '-n', SHOP, 'flaky', 'plexus.dev/retry-attempts=3']);
    }
  });

  it('TCP: echo-tcp.shop.plexus:9000 echoes, through the agent', async () => {
    const before = await agentMetric(cluster, 'plexus_tcp_connections_total', { destination_service: 'echo-tcp' });
    await until('a TCP echo', async () => ((await shop.client.tcp(`echo-tcp.${SHOP}.plexus`, 9000, 'hello over tcp')) === 'hello over tcp' ? true : undefined));
    expect(await agentMetric(cluster, 'plexus_tcp_connections_total', { destination_service: 'echo-tcp' })).to.be.greaterThan(before);
  });

  it('UDP: echo-udp.shop.plexus:53 answers a datagram, through the agent', async () => {
    const answer = await until('a UDP answer', async () => {
      const text = await shop.client.udp(`echo-udp.${SHOP}.plexus`, 53, 'ping');
      return /^web-v[12]-\S+ ping$/.test(text) ? text : undefined;
    });
    expect(answer).to.match(/ ping$/);
    // A flow is counted when it ends, after its idle timeout: wait for that, not a moment before.
    await until('the agent to count the UDP flow', async () => ((await agentMetric(cluster, 'plexus_udp_flows_total', { destination_service: 'echo-udp' })) > 0 ? true : undefined));
  });

  it('a Service opted out has no .plexus name; opted in it answers; opted out again it has none', async () => {
    const name = `toggle.${SHOP}.plexus`;
    expect(await shop.client.resolve(name)).to.deep.equal([]);
    await cluster.kubectl.ok(['annotate', '--overwrite', 'service', '-n', SHOP, 'toggle', 'plexus.dev/mesh=true']);
    await answering(shop.client, `http://${name}/`, (a) => a.status === 200, `${name} to answer once opted in`);
    await cluster.kubectl.ok(['annotate', '--overwrite', 'service', '-n', SHOP, 'toggle', 'plexus.dev/mesh=false']);
    await until(`${name} to stop resolving once opted out`, async () => ((await shop.client.resolve(name)).length === 0 ? true : undefined));
    expect(await shadowClusterIp(cluster, SHOP, 'toggle')).to.equal(undefined);
  });

  describe('endpoints scaled', () => {
    after(async () => {
      await cluster.kubectl.ok(['scale', 'deployment', '-n', SHOP, 'web-v1', '--replicas=2']);
    });

    it('web-v1 scaled to 3 pods, then to 1: the answering pods follow, and no request fails', async () => {
      const url = `http://web-v1.${SHOP}.plexus/`;
      const pods = async (): Promise<string[]> => {
        const list = await cluster.kubectl.get<{ items: { metadata: { name: string } }[] }>(['pods', '-n', SHOP, '-l', 'app=web,version=v1', '--field-selector=status.phase=Running']);
        return (list?.items ?? []).map((p) => p.metadata.name).sort();
      };
      for (const replicas of [3, 1]) {
        await cluster.kubectl.ok(['scale', 'deployment', '-n', SHOP, 'web-v1', `--replicas=${replicas}`]);
        await cluster.kubectl.ok(['rollout', 'status', '-n', SHOP, 'deployment/web-v1', '--timeout=180s'], { timeoutMs: 190_000 });
        const result = await until(`requests to web-v1 to reach exactly its ${replicas} pod(s)`, async () => {
          const want = await pods();
          const counted = await shop.client.count(url, 10 * replicas);
          return want.length === replicas && Object.keys(counted.answeredBy).sort().join() === want.join() ? counted : undefined;
        });
        expect(failures(result), JSON.stringify(result)).to.equal(0);
      }
    });
  });
});
