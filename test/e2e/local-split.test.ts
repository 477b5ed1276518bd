/** TrafficSplit end to end: weights, renormalisation, all-zero → 503, matches A/B, v1alpha1 quantities. */
import { expect } from 'chai';
import { countBackends, httpBackend, httpCall, type Backend } from './helpers/backends.js';
import { manifestFolder, namespace, pod, service, trafficSplit, type ManifestFolder } from './helpers/manifests.js';
import { startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';

const NS = 'splittest';
const V1_IP = '127.0.22.1';
const V2_IP = '127.0.22.2';
const PORT = 8080;

describe('local mode: TrafficSplit (real agent)', () => {
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  let vip = '';
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('services.yaml',
      service({ name: 'web', namespace: NS, port: PORT, selector: { app: 'web' } }),
      service({ name: 'web-v1', namespace: NS, port: PORT, selector: { app: 'web', version: 'v1' } }),
      service({ name: 'web-v2', namespace: NS, port: PORT, selector: { app: 'web', version: 'v2' } }),
      pod({ name: 'v1', namespace: NS, ip: V1_IP, labels: { app: 'web', version: 'v1' } }),
      pod({ name: 'v2', namespace: NS, ip: V2_IP, labels: { app: 'web', version: 'v2' } }));
    backends.push(await httpBackend('v1', V1_IP, PORT), await httpBackend('v2', V2_IP, PORT));
    agent = await startAgent(['--manifests', folder.dir, '--node-name', 'n1', '--vip-cidr', '127.122.0.0/24', '--dns-port', '0']);
    vip = agent.ready.vips[`${NS}/web`] ?? '';
  });

  after(async () => {
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  /** Writes the split file (a new split name each time) and waits until the agent serves it. */
  async function applySplit(text: string, name: string): Promise<void> {
    await folder.write('split.yaml', text);
    await waitForConfig(agent!.ready.adminPort, (view) => {
      const port = view.config.services.find((s) => s.key === `${NS}/web`)?.ports[0];
      const key = `${NS}/${name}`;
      return port?.destination.split === key || port?.rules.some((rule) => rule.destination.split === key) === true;
    });
  }

  function share(counts: Map<string, number>, key: string, total: number): number {
    return ((counts.get(key) ?? 0) / total) * 100;
  }

  it('without a split, both versions serve the root Service', async () => {
    const counts = await countBackends({ host: vip, port: PORT }, 40);
    expect([...counts.keys()].sort()).to.deep.equal(['v1', 'v2']);
  });

  it('weights 1/0 send everything to the first backend', async () => {
    await applySplit(trafficSplit('s-1-0', NS, 'web', [['web-v1', 1], ['web-v2', 0]]), 's-1-0');
    expect(Object.fromEntries(await countBackends({ host: vip, port: PORT }, 50))).to.deep.equal({ v1: 50 });
  });

  it('weights 0/1 send everything to the second backend', async () => {
    await applySplit(trafficSplit('s-0-1', NS, 'web', [['web-v1', 0], ['web-v2', 1]]), 's-0-1');
    expect(Object.fromEntries(await countBackends({ host: vip, port: PORT }, 50))).to.deep.equal({ v2: 50 });
  });

  it('weights 75/25 over 500 requests: each share within ±5 points', async () => {
    await applySplit(trafficSplit('s-75-25', NS, 'web', [['web-v1', 75], ['web-v2', 25]]), 's-75-25');
    const counts = await countBackends({ host: vip, port: PORT }, 500);
    expect(share(counts, 'v1', 500)).to.be.within(70, 80);
    expect(share(counts, 'v2', 500)).to.be.within(20, 30);
  });

  it('a missing backend is dropped and the rest renormalised', async () => {
    await applySplit(trafficSplit('s-missing', NS, 'web', [['web-v1', 50], ['web-v9', 50]]), 's-missing');
    expect(Object.fromEntries(await countBackends({ host: vip, port: PORT }, 30))).to.deep.equal({ v1: 30 });
  });

  it('all weights zero answers 503', async () => {
    await applySplit(trafficSplit('s-zero', NS, 'web', [['web-v1', 0], ['web-v2', 0]]), 's-zero');
    const result = await httpCall({ host: vip, port: PORT });
    expect(result.status).to.equal(503);
  });

  it('v1alpha1 quantity weights 1 vs 500m split about 67/33', async () => {
    await applySplit(trafficSplit('s-quantity', NS, 'web', [['web-v1', '1'], ['web-v2', '500m']], 'v1alpha1'), 's-quantity');
    const counts = await countBackends({ host: vip, port: PORT }, 300);
    expect(share(counts, 'v1', 300)).to.be.within(61.7, 71.7);
    expect(share(counts, 'v2', 300)).to.be.within(28.3, 38.3);
  });

  it('matches (A/B): a request with the matching header is split, the others go to the root Service', async () => {
    const routes = `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: canary-users
  namespace: ${NS}
spec:
  matches:
    - name: canary
      headers:
        - x-canary: "^yes$"
`;
    const split = `${trafficSplit('s-ab', NS, 'web', [['web-v2', 1]])}  matches:
    - kind: HTTPRouteGroup
      name: canary-users
`;
    await folder.write('routes.yaml', routes);
    await applySplit(split, 's-ab');
    const matching = await countBackends({ host: vip, port: PORT, headers: { 'x-canary': 'yes' } }, 30);
    expect(Object.fromEntries(matching)).to.deep.equal({ v2: 30 });
    const others = await countBackends({ host: vip, port: PORT }, 40);
    expect([...others.keys()].sort()).to.deep.equal(['v1', 'v2']);
  });
});
