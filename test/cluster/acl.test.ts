/**
 * Authorization in plain mode: the agents rolled to `--acl` (added to the DaemonSet's args, as
 * docs/install.md says), a TrafficTarget granting ServiceAccount `client` every path of `web`:
 * the `client` pod is answered, the `stranger` pod (no TrafficTarget) gets 403 from its agent.
 */
import { expect } from 'chai';
import { httpAccess } from '../e2e/helpers/manifests.js';
import { agentMetric } from './helpers/agents.js';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { ensureInstalled } from './helpers/install.js';
import { ensureShop, SHOP, type Shop } from './helpers/shop.js';

describe('cluster: ACL mode (--acl): TrafficTargets allow and deny', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let shop: Shop;

  before(async function () {
    cluster = clusterUnderTest(this);
    await ensureInstalled(cluster, ['--acl']);
    shop = await ensureShop(cluster);
  });

  it('a client granted by a TrafficTarget is answered; a pod without one is refused with 403', async () => {
    await cluster.kubectl.apply(httpAccess(SHOP, 'web-access', 'web', 'client', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]));
    const url = `http://web.${SHOP}.plexus/`;
    // Both at once: the rule applied, not a moment before it (when every caller gets 403).
    await until('client answered and stranger refused', async () => {
      const [allowed, refused] = [await shop.client.get(url), await shop.stranger.get(url)];
      if (allowed.status !== 200 || refused.status !== 403) throw new Error(`client ${allowed.status} ${allowed.body}, stranger ${refused.status} ${refused.body}`);
      return true;
    });
    expect(await agentMetric(cluster, 'plexus_requests_total', { source_namespace: SHOP, destination_service: 'web', status_code: '403' })).to.be.greaterThan(0);
  });

  it('a TrafficTarget narrowed to /public: the client gets 403 elsewhere and 200 there', async () => {
    await cluster.kubectl.apply(httpAccess(SHOP, 'web-access', 'web', 'client', [{ name: 'public', pathRegex: '/public', methods: ['GET'] }]));
    await until('/public allowed and / refused for client', async () => {
      const [publicAnswer, rootAnswer] = [await shop.client.get(`http://web.${SHOP}.plexus/public`), await shop.client.get(`http://web.${SHOP}.plexus/`)];
      if (publicAnswer.status !== 200 || rootAnswer.status !== 403) throw new Error(`/public ${publicAnswer.status}, / ${rootAnswer.status}`);
      return true;
    });
  });
});
