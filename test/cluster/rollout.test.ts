/**
 * The agent rolled under load, plain mode: `kubectl rollout restart daemonset/plexus-agent`
 * while a client pod sends a bounded stream of requests to web.shop.plexus. The DaemonSet's
 * `maxSurge: 1` starts the new agent before the old one stops; every request must be answered.
 * Whatever failed is reported in full (count, causes, the first failures with their times).
 */
import { expect } from 'chai';
import { agentMetric } from './helpers/agents.js';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { agentsRolledOut, ensureInstalled, MESH_NAMESPACE } from './helpers/install.js';
import { ensureShop, SHOP, type Shop } from './helpers/shop.js';
import { failures, requestsFor } from './helpers/workloads.js';

describe('cluster: the agent rolled under load (plain mode)', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let shop: Shop;

  before(async function () {
    cluster = clusterUnderTest(this);
    await ensureInstalled(cluster);
    shop = await ensureShop(cluster);
  });

  it('kubectl rollout restart of the agents drops no request', async () => {
    const served = (): Promise<number> => agentMetric(cluster, 'plexus_requests_total', { destination_service: 'web' });
    const url = `http://web.${SHOP}.plexus/`;
    await until('web.shop.plexus to answer', async () => ((await shop.client.get(url)).status === 200 ? true : undefined));
    // Bounded: 300 s (and `requestsFor(300)` requests); stopped once the new agents have served.
    const load = shop.client.load(url, { maxRequests: requestsFor(300), maxSeconds: 300, concurrency: 4 });
    const before = await served();
    await until('the load to flow through the agents', async () => ((await served()) > before ? true : undefined));
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'daemonset/plexus-agent']);
    await agentsRolledOut(cluster);
    // Only new agents run now: their counters start at zero, so any count is theirs.
    await until('the new agents to serve the load', async () => ((await served()) > 0 ? true : undefined));
    const result = await load.stop();
    expect(result.stopped, `the load ended before the rollout did: ${JSON.stringify(result)}`).to.equal(true);
    expect(failures(result), `requests that failed during the rollout: ${JSON.stringify(result)}`).to.equal(0);
  });
});
