/**
 * Secure mode on the real cluster (issue 21), 1 of 3: switched on and off by rollouts
 * (`plexus secure on|off`, the pod template's `plexus.dev/secure`), plain and secure agents
 * coexisting meanwhile, under two bounded loads (keep-alive and a new connection per request):
 * every request answered. Ends in plain mode, as the other files expect.
 */
import { expect } from 'chai';
import { until } from './helpers/cluster.js';
import { agentsRolledOut } from './helpers/install.js';
import { plainEverywhere, plexus, runningPods, secureEverywhere, secureFileHooks } from './helpers/secure.js';
import { SHOP } from './helpers/shop.js';

describe('cluster: secure mode switched by rollouts (issue 21)', function () {
  this.timeout(900_000);
  const file = secureFileHooks('plain');

  it('plain → secure → plain by rollouts under load: no failed request, no hand-edited args', async () => {
    const { cluster, loads } = file;
    loads.start();
    const on = await plexus(cluster, 'secure', 'on');
    expect(on).to.match(/issuer: ready/);
    await agentsRolledOut(cluster);
    await secureEverywhere(cluster);
    for (const pod of (await runningPods(cluster, 'agent')).items) expect(pod.metadata.annotations?.['plexus.dev/secure'], pod.metadata.name).to.equal('true');
    // The leader (the old plain agent while the new one starts, or the new one) wrote them.
    await until('the NetworkPolicy guarding web', () => cluster.kubectl.get(['networkpolicy', '-n', SHOP, 'plexus-web']).then((p) => p ?? undefined));
    const off = await plexus(cluster, 'secure', 'off');
    expect(off).to.match(/secure mode off: the agents roll out now/);
    await agentsRolledOut(cluster);
    await plainEverywhere(cluster);
    await until('no NetworkPolicy of Plexus once no agent runs secure mode', async () => {
      const left = await cluster.kubectl.get<{ items: unknown[] }>(['networkpolicies', '-A', '-l', 'app.kubernetes.io/managed-by=plexus']);
      return left?.items.length === 0 ? true : undefined;
    });
    await loads.stop();
  });
});
