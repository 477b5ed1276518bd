/**
 * Seeing the mesh on a real cluster: `plexus stat`, `tap` and `dashboard`, run on this machine
 * with the kubeconfig as a user runs them, read every agent through the real API server's pod
 * proxy while a pod calls web.shop.plexus. The tap token comes from `plexus prepare` (Secret
 * plexus-tap, mounted into the agents by the DaemonSet's optional volume, which the kubelet
 * fills within about a minute): until then a tap is refused, after it the stream flows.
 */
import { expect } from 'chai';
import { startDashboard } from '../e2e/helpers/dashboard.js';
import { runPlexus, type RunResult } from '../e2e/helpers/plexus.js';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { ensureInstalled } from './helpers/install.js';
import { ensureShop, SHOP, type Shop } from './helpers/shop.js';
import { failures, requestsFor } from './helpers/workloads.js';

const WEB = `http://web.${SHOP}.plexus/`;

describe('cluster: seeing the mesh (plexus stat, tap and dashboard through the API server)', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let shop: Shop;

  /** The real `plexus` binary on this machine, outside any pod, with the cluster's kubeconfig. */
  const plexus = (args: readonly string[]): Promise<RunResult> =>
    runPlexus([...args, '--kubeconfig', cluster.target.kubeconfig], 120_000, { KUBERNETES_SERVICE_HOST: '' });

  before(async function () {
    cluster = clusterUnderTest(this);
    await ensureInstalled(cluster);
    shop = await ensureShop(cluster);
    const prepared = await plexus(['prepare']);
    expect(prepared.code, prepared.stderr).to.equal(0);
    expect(prepared.stdout).to.match(/tap token: (created Secret plexus\/plexus-tap|Secret plexus\/plexus-tap exists)/);
  });

  /** Runs `check` while the client pod calls web.shop.plexus (bounded: 150 s, and `requestsFor(150)` requests, so the traffic lasts as long as the check may), then asserts no call failed. */
  async function whileTraffic<T>(check: () => Promise<T>): Promise<T> {
    const load = shop.client.load(WEB, { maxRequests: requestsFor(150), maxSeconds: 150, concurrency: 1 });
    let value: T;
    try {
      value = await check();
    } finally {
      const result = await load.stop();
      expect(failures(result), JSON.stringify(result.firstFailures)).to.equal(0);
    }
    return value;
  }

  it('stat: web.shop.plexus with its caller shop/client, every request a success', async () => {
    const report = await whileTraffic(() => until('plexus stat to show shop/client calling shop/web', async () => {
      const result = await plexus(['stat', `${SHOP}/web`, '--window', '3', '-o', 'json']);
      if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr.trim()}`);
      const parsed = JSON.parse(result.stdout) as { agents: number; services: Array<{ key: string; requests: number; successRate: number | null }>; sources: Array<{ key: string; requests: number; successRate: number | null }> };
      return parsed.sources.some((row) => row.key === `${SHOP}/client → ${SHOP}/web` && row.requests > 0) ? parsed : undefined;
    }));
    expect(report.agents).to.be.at.least(1);
    expect(report.services.find((row) => row.key === `${SHOP}/web`)?.successRate).to.equal(1);
    expect(report.sources.find((row) => row.key === `${SHOP}/client → ${SHOP}/web`)?.successRate).to.equal(1);
  });

  it('tap: live requests of shop/web through the pod proxy, with the token from Secret plexus-tap', async () => {
    // The agents read the token from the Secret's volume: refused ("cannot read its tap token") until the kubelet mounts it.
    const lines = await whileTraffic(() => until('a tap of shop/web to stream requests', async () => {
      const result = await plexus(['tap', `${SHOP}/web`, '--max', '5', '--duration', '30']);
      if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr.trim()}`);
      const streamed = result.stdout.trim().split('\n').filter((line) => line !== '');
      if (streamed.length === 0) throw new Error('no request in 30 s');
      return streamed;
    }, 140_000));
    expect(lines).to.have.length(5);
    for (const line of lines) expect(line).to.match(new RegExp(` ${SHOP}/client → ${SHOP}/web:80 .*GET / 200 `));
  });

  it('dashboard: the graph shows the edge shop/client → shop/web, and the routes panel reads an agent\'s /config', async () => {
    const { child, url: started } = startDashboard(['--kubeconfig', cluster.target.kubeconfig, '--duration', '240'], { ...process.env, KUBERNETES_SERVICE_HOST: '' });
    try {
      const url = await started;
      await whileTraffic(() => until('the graph to show shop/client → shop/web with traffic', async () => {
        const graph = await (await fetch(`${url}api/graph`)).json() as { edges: Array<{ from: string; to: string; rps: number; successRate: number | null }> };
        const edge = graph.edges.find((e) => e.from === `${SHOP}/client` && e.to === `${SHOP}/web`);
        if (edge === undefined || edge.rps <= 0) throw new Error(`edges: ${JSON.stringify(graph.edges)}`);
        return edge.successRate === 1 ? true : undefined;
      }));
      const service = await (await fetch(`${url}api/service?name=${SHOP}/web`)).json() as { routes: Array<{ port: number }> | null; routesProblem: string | null };
      expect(service.routesProblem).to.equal(null);
      expect(service.routes?.map((route) => route.port)).to.deep.equal([80]);
    } finally {
      child.kill('SIGINT');
    }
  });
});
