/**
 * Secure mode on the real cluster (issue 21), 1 of 3: switched on and off by rollouts
 * (`plexus secure on|off`, the pod template's `plexus.dev/secure`), plain and secure agents
 * coexisting meanwhile, under two bounded loads (keep-alive and a new connection per request):
 * every request answered. Ends in plain mode, as the other files expect.
 */
import { expect } from 'chai';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { agentsRolledOut, ensureInstalled } from './helpers/install.js';
import { plainEverywhere, plexus, runningPods, secureEverywhere, SHOP_URL, ShopLoads } from './helpers/secure.js';
import { ensureShop } from './helpers/shop.js';

describe('cluster: secure mode switched by rollouts (issue 21)', function () {
  this.timeout(900_000);
  let cluster: TestCluster;
  let loads: ShopLoads;

  before(async function () {
    cluster = clusterUnderTest(this);
    await ensureInstalled(cluster);
    const shop = await ensureShop(cluster);
    loads = new ShopLoads(shop);
    await until('web.shop.plexus to answer', async () => ((await shop.client.get(SHOP_URL)).status === 200 ? true : undefined));
  });

  afterEach(async () => {
    await loads?.stop().catch(() => undefined);
  });

  after(async () => {
    if (cluster === undefined) return;
    await plexus(cluster, 'secure', 'off').catch(() => undefined);
    await agentsRolledOut(cluster).catch(() => undefined);
  });

  it('plain → secure → plain by rollouts under load: no failed request, no hand-edited args', async () => {
    loads.start();
    const on = await plexus(cluster, 'secure', 'on');
    expect(on).to.match(/issuer: ready/);
    await agentsRolledOut(cluster);
    await secureEverywhere(cluster);
    for (const pod of (await runningPods(cluster, 'agent')).items) expect(pod.metadata.annotations?.['plexus.dev/secure'], pod.metadata.name).to.equal('true');
    const off = await plexus(cluster, 'secure', 'off');
    expect(off).to.match(/secure mode off: the agents roll out now/);
    await agentsRolledOut(cluster);
    await plainEverywhere(cluster);
    await loads.stop();
  });
});
