/**
 * What the secure-mode files (secure-*.test.ts, issue 21) share: the `plexus` CLI against the test
 * cluster, `plexus check`'s lines, the agent and issuer pods, an agent's /config, waiting for a
 * mode everywhere, and the two bounded loads that run through every change (`client` with
 * keep-alive connections, `stranger` with a new connection per request).
 */
import { expect } from 'chai';
import { runPlexus } from '../../e2e/helpers/plexus.js';
import { clusterUnderTest, until, type TestCluster } from './cluster.js';
import { agentsRolledOut, ensureInstalled, MESH_NAMESPACE } from './install.js';
import { ensureShop, SHOP, type Shop } from './shop.js';
import { failures, type Load, type LoadResult, requestsFor } from './workloads.js';

export const SHOP_URL = `http://web.${SHOP}.plexus/`;

export interface PodList {
  readonly items: readonly { readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> }; readonly spec?: { readonly nodeName?: string } }[];
}

export interface HeldCertificate {
  readonly identity: string;
  readonly signedBy: string;
  readonly notAfter: string;
}

/** `plexus ARGS --kubeconfig <the test cluster>`; its stdout, or an error with what it said. */
export async function plexus(cluster: TestCluster, ...args: string[]): Promise<string> {
  const run = await runPlexus([...args, '--kubeconfig', cluster.target.kubeconfig], 300_000, { KUBERNETES_SERVICE_HOST: '' });
  if (run.code !== 0) throw new Error(`plexus ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

/** The line of `plexus check` about `name` (e.g. `secure mode`), status word included. */
export async function checkLine(cluster: TestCluster, name: string): Promise<string> {
  const run = await runPlexus(['check', '--kubeconfig', cluster.target.kubeconfig], 300_000, { KUBERNETES_SERVICE_HOST: '' });
  return run.stdout.split('\n').find((line) => line.slice(6).startsWith(`${name}:`)) ?? `(no ${name} line) ${run.stdout}`;
}

/** The running pods of a component (`agent`, `issuer`) of the mesh namespace. */
export async function runningPods(cluster: TestCluster, component: 'agent' | 'issuer'): Promise<PodList> {
  return (await cluster.kubectl.get<PodList>(['pods', '-n', MESH_NAMESPACE, '-l', `app.kubernetes.io/component=${component}`, '--field-selector=status.phase=Running'])) ?? { items: [] };
}

/** The certificates an agent holds, from its /config (loopback only: read inside its pod with the image's node). */
export async function agentCertificates(cluster: TestCluster, pod: string): Promise<HeldCertificate[]> {
  const script = "fetch('http://127.0.0.1:9901/config').then((r) => r.text()).then((t) => process.stdout.write(t))";
  const view = JSON.parse(await cluster.kubectl.ok(['exec', '-n', MESH_NAMESPACE, pod, '--', 'node', '-e', script])) as { secure?: { certificates?: HeldCertificate[] } };
  return view.secure?.certificates ?? [];
}

export function issuerRolledOut(cluster: TestCluster): Promise<string> {
  return cluster.kubectl.ok(['rollout', 'status', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer', '--timeout=240s'], { timeoutMs: 250_000 });
}

/** Waits until `plexus check` says every agent runs secure mode. */
export function secureEverywhere(cluster: TestCluster): Promise<string> {
  return until('every agent to run secure mode', async () => {
    const line = await checkLine(cluster, 'secure mode');
    return /^ok {4}secure mode: on: (\d+) of \1 agents run secure mode/.test(line) ? line : Promise.reject(new Error(line));
  }, 300_000);
}

/** Waits until `plexus check` says no agent runs secure mode. */
export function plainEverywhere(cluster: TestCluster): Promise<string> {
  return until('every agent to run plain mode', async () => {
    const line = await checkLine(cluster, 'secure mode');
    return /^skip {2}secure mode: off/.test(line) ? line : Promise.reject(new Error(line));
  }, 300_000);
}

/** `plexus secure on` (or off), then the agents rolled out and `plexus check` agreeing. */
export async function switchSecure(cluster: TestCluster, state: 'on' | 'off'): Promise<string> {
  const said = await plexus(cluster, 'secure', state);
  await agentsRolledOut(cluster);
  await (state === 'on' ? secureEverywhere(cluster) : plainEverywhere(cluster));
  return said;
}

/**
 * The two loads on web.shop.plexus, started by `start` and checked by `stop`: every request
 * answered, neither load ended early. Bounded: 900 s each (and `requestsFor(900)` requests).
 */
export class ShopLoads {
  #running: { keepAlive: Load; fresh: Load } | null = null;

  constructor(readonly shop: Shop) {}

  start(): void {
    this.#running = {
      keepAlive: this.shop.client.load(SHOP_URL, { maxRequests: requestsFor(900), maxSeconds: 900, concurrency: 2 }),
      fresh: this.shop.stranger.load(SHOP_URL, { maxRequests: requestsFor(900), maxSeconds: 900, concurrency: 2, newConnections: true }),
    };
  }

  /** Stops both loads and asserts zero failures; nothing when none runs. */
  async stop(): Promise<LoadResult[]> {
    const running = this.#running;
    this.#running = null;
    if (running === null) return [];
    const results = await Promise.all([running.keepAlive.stop(), running.fresh.stop()]);
    for (const [which, result] of [['keep-alive', results[0]!], ['new connection per request', results[1]!]] as const) {
      console.log(`      ${which}: ${result.sent} requests, ${failures(result)} failed, statuses ${JSON.stringify(result.statuses)}`);
      expect(result.stopped, `${which}: the load ended before the test did: ${JSON.stringify(result)}`).to.equal(true);
      expect(result.sent, `${which}: ${JSON.stringify(result)}`).to.be.greaterThan(0);
      expect(failures(result), `${which}: requests that failed: ${JSON.stringify(result)}`).to.equal(0);
    }
    return results;
  }
}

/** What a secure-mode file's tests use, set by the hooks of secureFileHooks. */
export class SecureFile {
  #cluster: TestCluster | null = null;
  #loads: ShopLoads | null = null;

  get cluster(): TestCluster {
    if (this.#cluster === null) throw new Error('the before hook of secureFileHooks has not run');
    return this.#cluster;
  }

  get loads(): ShopLoads {
    if (this.#loads === null) throw new Error('the before hook of secureFileHooks has not run');
    return this.#loads;
  }

  set(cluster: TestCluster, loads: ShopLoads): void {
    this.#cluster = cluster;
    this.#loads = loads;
  }

  get ready(): boolean {
    return this.#cluster !== null;
  }
}

/**
 * The hooks every secure-mode file has, registered in its describe: before, Plexus installed, the
 * shop answering, then (`start: 'secure'`) secure mode switched on; after each test its loads
 * stopped; after the file, plain mode again (the next file expects it).
 */
export function secureFileHooks(start: 'plain' | 'secure'): SecureFile {
  const file = new SecureFile();
  before(async function () {
    const cluster = clusterUnderTest(this);
    await ensureInstalled(cluster);
    const shop = await ensureShop(cluster);
    file.set(cluster, new ShopLoads(shop));
    await until('web.shop.plexus to answer', async () => ((await shop.client.get(SHOP_URL)).status === 200 ? true : undefined));
    if (start === 'secure') await switchSecure(cluster, 'on');
  });
  afterEach(async () => {
    if (file.ready) await file.loads.stop().catch(() => undefined);
  });
  after(async () => {
    if (!file.ready) return;
    await plexus(file.cluster, 'secure', 'off').catch(() => undefined);
    await agentsRolledOut(file.cluster).catch(() => undefined);
  });
  return file;
}
