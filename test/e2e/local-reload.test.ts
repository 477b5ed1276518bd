/** Reload under load: the folder changes weights and endpoints while a client streams requests. */
import { Agent, request } from 'node:http';
import { expect } from 'chai';
import { httpBackend, type Backend } from './helpers/backends.js';
import { manifestFolder, namespace, pod, service, trafficSplit, type ManifestFolder } from './helpers/manifests.js';
import { startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';

const NS = 'reloadtest';
const V1_IP = '127.0.25.1';
const V2_IP = '127.0.25.2';
const V1B_IP = '127.0.25.3';
const MAX_REQUESTS = 4000;
const MAX_LOAD_MS = 45_000;
const CLIENTS = 4;

interface Load {
  readonly served: Map<string, number>;
  readonly failures: string[];
  sent: number;
  stop(): Promise<void>;
}

/** CLIENTS keep-alive loops, bounded by MAX_REQUESTS and MAX_LOAD_MS. */
function startLoad(host: string, port: number): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const deadline = Date.now() + MAX_LOAD_MS;
  let running = true;
  const load: Load = { served: new Map(), failures: [], sent: 0, stop: async () => undefined };
  const once = (): Promise<void> => new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const by = res.headers['x-served-by'];
        if (res.statusCode === 200 && typeof by === 'string') load.served.set(by, (load.served.get(by) ?? 0) + 1);
        else load.failures.push(`status ${res.statusCode}`);
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      load.failures.push(err.message);
      resolve();
    });
    req.end();
  });
  const loop = async (): Promise<void> => {
    while (running && load.sent < MAX_REQUESTS && Date.now() < deadline) {
      load.sent++;
      await once();
    }
  };
  const loops = Array.from({ length: CLIENTS }, loop);
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
    agent.destroy();
  };
  return load;
}

/** Waits (bounded) until the stream has been served by `who`, counting from now. */
async function until(load: Load, who: string, timeoutMs = 60_000): Promise<void> {
  const start = load.served.get(who) ?? 0;
  const deadline = Date.now() + timeoutMs;
  while ((load.served.get(who) ?? 0) === start) {
    if (Date.now() > deadline) throw new Error(`no request served by ${who} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('local mode: reload under load (real agent)', function () {
  this.timeout(240_000);
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  let load: Load | null = null;
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('services.yaml',
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      service({ name: 'web-v1', namespace: NS, port: 8080, selector: { app: 'web', version: 'v1' } }),
      service({ name: 'web-v2', namespace: NS, port: 8080, selector: { app: 'web', version: 'v2' } }));
    await folder.write('pods.yaml',
      pod({ name: 'v1', namespace: NS, ip: V1_IP, labels: { app: 'web', version: 'v1' } }),
      pod({ name: 'v2', namespace: NS, ip: V2_IP, labels: { app: 'web', version: 'v2' } }));
    await folder.write('split.yaml', trafficSplit('web', NS, 'web', [['web-v1', 100], ['web-v2', 0]]));
    backends.push(await httpBackend('v1', V1_IP, 8080), await httpBackend('v2', V2_IP, 8080), await httpBackend('v1b', V1B_IP, 8080));
    agent = await startAgent(['--manifests', folder.dir, '--node-name', 'n1', '--vip-cidr', '127.125.0.0/24', '--dns-port', '0']);
  });

  after(async () => {
    await load?.stop();
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  it('sees zero failed requests while weights and endpoints change, and the new weights take effect', async () => {
    const vip = agent!.ready.vips[`${NS}/web`]!;
    load = startLoad(vip, 8080);
    await until(load, 'v1');

    await folder.write('split.yaml', trafficSplit('web', NS, 'web', [['web-v1', 0], ['web-v2', 100]]));
    await until(load, 'v2');

    // A new v1 endpoint and a 50/50 split.
    await folder.write('pods.yaml',
      pod({ name: 'v1', namespace: NS, ip: V1_IP, labels: { app: 'web', version: 'v1' } }),
      pod({ name: 'v1b', namespace: NS, ip: V1B_IP, labels: { app: 'web', version: 'v1' } }),
      pod({ name: 'v2', namespace: NS, ip: V2_IP, labels: { app: 'web', version: 'v2' } }));
    await folder.write('split.yaml', trafficSplit('web', NS, 'web', [['web-v1', 50], ['web-v2', 50]]));
    await until(load, 'v1b');

    // An endpoint removed: v1 leaves, v1b stays.
    await folder.write('pods.yaml',
      pod({ name: 'v1b', namespace: NS, ip: V1B_IP, labels: { app: 'web', version: 'v1' } }),
      pod({ name: 'v2', namespace: NS, ip: V2_IP, labels: { app: 'web', version: 'v2' } }));
    const view = await waitForConfig(agent!.ready.adminPort, (v) => {
      const destination = v.config.services.find((s) => s.key === `${NS}/web`)?.ports[0]?.destination;
      return destination?.kind === 'backends' && destination.backends.every((b) => b.endpoints.every((e) => e.ip !== V1_IP));
    });
    expect(view.generation).to.be.greaterThan(1);
    const v1Before = load.served.get('v1') ?? 0;
    await until(load, 'v1b');
    await until(load, 'v2');
    await load.stop();

    expect(load.failures).to.deep.equal([]);
    expect(load.sent).to.be.greaterThan(0);
    // Requests already sent to v1 may finish after the switch, but no new stream goes there.
    expect((load.served.get('v1') ?? 0) - v1Before).to.be.at.most(CLIENTS);
  });
});
