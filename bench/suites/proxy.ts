/**
 * proxy suite: the same bounded wrk load sent directly to a loopback upstream, through a local
 * mode Plexus agent (HTTP, TCP pass-through, a 2-way split, ACL mode) and through nginx and
 * haproxy as plain reverse proxies; throughput, latency, the proxy's CPU per request and RSS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { initCaDir } from '../../src/secure/ca.js';
import { DEFAULT_TRUST_DOMAIN } from '../../src/secure/defaults.js';
import { startAgent, type LocalAgent } from '../lib/agent.js';
import { allRoutes, namespace, pod, service, trafficSplit, trafficTarget, toYaml, type Manifest } from '../lib/manifests.js';
import { httpGet } from '../lib/net.js';
import { watchAgent } from '../lib/watch.js';
import { startHaproxy, startNginxProxy, startNginxUpstream, startNodeUpstream, startRelayFloor, startTcpPipe, startTunnelPipes, type Peer } from '../lib/peers.js';
import { PeakRss, cpuSeconds, rssMb } from '../lib/proc-stats.js';
import type { CoreLayout, Managed } from '../lib/processes.js';
import { waitForQuiet } from '../lib/quiet.js';
import { num, signed, type GoalCheck, type SuiteReport, type Table } from '../lib/report.js';
import { median } from '../lib/stats.js';
import type { Tools } from '../lib/tools.js';
import { runWrk } from '../lib/wrk.js';
import { wrkErrors, type WrkResult } from '../lib/wrk-output.js';

export interface ProxySuiteOptions {
  readonly durationS: number;
  readonly rounds: number;
  readonly layout: CoreLayout;
  readonly tools: Tools;
  readonly workDir: string;
  /** Wait up to this long before each setup for other programs to use < 0.15 cores. */
  readonly quietWaitS: number;
}

const TESTS = ['keep-alive', 'moderate', 'close'] as const;
type Test = typeof TESTS[number];

const SATURATION_CONNECTIONS = 50;
const MODERATE_CONNECTIONS = 20;
/** 20 connections x (10 ms think time + latency) ≈ 1.9k req/s: the "2,000 req/s" of the goals. */
const MODERATE_DELAY_MS = 10;
const WARMUP_S = 1;
const SERVICE_PORT = 8080;
const NS = 'bench';
const UPSTREAM_HOST = '127.0.20.1';
/** Linux picks 127.0.0.1 as the source address for any 127/8 destination: wrk's pod IP. */
const CLIENT_POD_IP = '127.0.0.1';
/** Not a pod: the ACL check's refused caller. */
const STRANGER_IP = '127.0.0.2';

const TARGETS = ['direct', 'plexus http', 'plexus tcp', 'plexus split 2-way', 'plexus http, tap + stat watching', 'plexus http, ACL on', 'plexus http, secure tunnel', 'plexus tcp, secure tunnel',
  'nginx', 'haproxy', 'bare node TCP pipe', 'bare node pipes, mTLS tunnel', 'bare node HTTP relay'] as const;
/** Secure mode: wrk's pod on node-a, the upstream pod on node-b, each node's agent on its tunnel address. */
const SECURE_TUNNELS = { 'node-a': '127.0.43.1', 'node-b': '127.0.43.2' } as const;
const SECURE_TUNNEL_PORT = 15008;
type Target = typeof TARGETS[number];

interface Probe {
  readonly target: Target;
  readonly url: string;
  readonly tests: readonly Test[];
}

interface Setup {
  readonly name: string;
  /** The process whose CPU and RSS are reported (the upstream for `direct`). */
  readonly measured: Managed;
  /** Processes on the same path whose CPU is added to `measured`'s (the destination side of a tunnel). */
  readonly companions?: readonly Managed[];
  readonly probes: readonly Probe[];
  readonly stop: () => Promise<void>;
}

interface Measurement {
  readonly round: number;
  readonly target: Target;
  readonly test: Test;
  readonly wrk: WrkResult;
  readonly cpuPer10k: number;
  readonly coreBusy: number;
  readonly rssLoadMb: number;
}

interface Footprint {
  readonly round: number;
  readonly setup: string;
  readonly freshMb: number;
  readonly idleMb: number;
  readonly foreignCores: number;
}

function proxyManifests(upstreamPort: number): Manifest[] {
  const upstream = { app: 'upstream' };
  const http = (name: string, annotations?: Record<string, string>): Manifest =>
    service(NS, name, { port: SERVICE_PORT, targetPort: upstreamPort, selector: upstream, ...(annotations ? { annotations } : {}) });
  return [
    namespace(NS),
    pod(NS, 'upstream', UPSTREAM_HOST, 'upstream', upstream),
    pod(NS, 'wrk', CLIENT_POD_IP, 'client', { app: 'client' }),
    http('http'),
    http('tcp', { 'plexus.dev/traffic-type': 'tcp' }),
    http('split'),
    http('split-a'),
    http('split-b'),
    trafficSplit(NS, 'split', 'split', [{ service: 'split-a', weight: 50 }, { service: 'split-b', weight: 50 }]),
    allRoutes(NS, 'all'),
    trafficTarget(NS, 'client-to-upstream', 'upstream', 'client', 'all'),
  ];
}

/** The same Services, with the pods placed on nodes: every request from wrk crosses to node-b. */
function secureManifests(upstreamPort: number): Manifest[] {
  const upstream = { app: 'upstream' };
  return [
    namespace(NS),
    pod(NS, 'upstream', UPSTREAM_HOST, 'upstream', upstream, 'node-b'),
    pod(NS, 'wrk', CLIENT_POD_IP, 'client', { app: 'client' }, 'node-a'),
    service(NS, 'http', { port: SERVICE_PORT, targetPort: upstreamPort, selector: upstream }),
    service(NS, 'tcp', { port: SERVICE_PORT, targetPort: upstreamPort, selector: upstream, annotations: { 'plexus.dev/traffic-type': 'tcp' } }),
  ];
}

export async function runProxySuite(options: ProxySuiteOptions): Promise<SuiteReport> {
  const { layout, tools, workDir } = options;
  const notes: string[] = [`pinning: ${layout.description}`];
  if (!tools.wrk) {
    return { suite: 'proxy', notes: [...notes, 'skipped: wrk is not installed'], tables: [], goals: [], data: null };
  }
  mkdirSync(workDir, { recursive: true });
  const upstream: Peer = tools.nginx
    ? await startNginxUpstream(workDir, UPSTREAM_HOST, layout.loadCpu)
    : await startNodeUpstream(UPSTREAM_HOST, layout.loadCpu);
  notes.push(`upstream: ${upstream.label} on ${UPSTREAM_HOST}:${upstream.address.port}, ${layout.pinned ? `cpu${layout.loadCpu}` : 'unpinned'}`);
  if (!tools.nginx) notes.push('nginx not installed: no nginx row and no "x nginx" ratios; the upstream is node:http (it caps every row lower)');
  if (!tools.haproxy) notes.push('haproxy not installed: no haproxy row');

  const manifestsDir = join(workDir, 'manifests');
  mkdirSync(manifestsDir, { recursive: true });
  writeFileSync(join(manifestsDir, 'bench.yaml'), toYaml(proxyManifests(upstream.address.port)));
  const secureDir = join(workDir, 'secure-manifests');
  mkdirSync(secureDir, { recursive: true });
  writeFileSync(join(secureDir, 'bench.yaml'), toYaml(secureManifests(upstream.address.port)));
  const caDir = join(workDir, 'ca');
  await initCaDir(caDir, { trustDomain: DEFAULT_TRUST_DOMAIN, force: true });

  const measurements: Measurement[] = [];
  const footprints: Footprint[] = [];
  const agentCommands = new Set<string>();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const open of setups(options, upstream, manifestsDir, notes, agentCommands, round === 1, { manifestsDir: secureDir, caDir })) {
        let setup: Setup;
        try {
          setup = await open();
        } catch (err) {
          // One proxy that cannot start costs its rows, not the suite.
          notes.push(`round ${round}: a setup did not start: ${err instanceof Error ? err.message.split('\n').slice(0, 4).join(' / ') : String(err)}`);
          continue;
        }
        try {
          const foreign = await waitForQuiet([upstream.process.pid, setup.measured.pid], 0.15, options.quietWaitS);
          const pid = setup.measured.pid;
          const freshMb = rssMb(pid);
          const first = setup.probes[0] as Probe;
          await runWrk({ url: first.url, connections: SATURATION_CONNECTIONS, durationS: WARMUP_S, cpu: layout.loadCpu, workDir });
          await sleep(1000);
          footprints.push({ round, setup: setup.name, freshMb, idleMb: rssMb(pid), foreignCores: foreign });
          // Test by test across the probes: the connection-per-request test comes last, so the
          // garbage its thousands of connections leave does not weigh on the other rows.
          for (const test of TESTS) {
            for (const probe of setup.probes.filter((p) => p.tests.includes(test))) {
              const cpuPids = [pid, ...(setup.companions ?? []).map((companion) => companion.pid)];
              measurements.push({ round, target: probe.target, test, ...await measure(options, pid, cpuPids, probe.url, test) });
            }
          }
        } finally {
          await setup.stop();
        }
      }
    }
  } finally {
    await upstream.process.stop();
  }
  notes.push(...agentCommands);
  notes.push(
    `load: wrk -t1, keep-alive: -c${SATURATION_CONNECTIONS} -d${options.durationS}s --latency; moderate: -c${MODERATE_CONNECTIONS} with a Lua delay() of ${MODERATE_DELAY_MS} ms per request (about 2k req/s); new connection per request: -c${SATURATION_CONNECTIONS} -H 'Connection: close'. ${WARMUP_S} s warm-up per setup. ${options.rounds} round(s), setups interleaved; medians over rounds.`,
    'CPU s/10k = (utime+stime of the measured process, all threads, from /proc/PID/stat) / requests x 10,000; for "direct" it is the upstream\'s. RSS = VmRSS: fresh after start, idle 1 s after the warm-up, load = peak sampled every 0.5 s.',
    `ACL mode: wrk cannot bind a source address, but Linux gives every connection to a 127/8 address the source ${CLIENT_POD_IP}; the manifests declare a Pod with podIP ${CLIENT_POD_IP} (ServiceAccount "client") and a TrafficTarget granting it every request. Before measuring, a request from ${STRANGER_IP} (no pod) must get 403 and one from the default source 200.`,
  );
  return report(options, measurements, footprints, notes, upstream.label);
}

/** The setups of one round, opened lazily one at a time (each closed before the next opens). */
function setups(options: ProxySuiteOptions, upstream: Peer, manifestsDir: string, notes: string[], agentCommands: Set<string>, firstRound: boolean,
  secure: { readonly manifestsDir: string; readonly caDir: string }): (() => Promise<Setup>)[] {
  const { layout, tools, workDir } = options;
  const upstreamUrl = `http://${upstream.address.host}:${upstream.address.port}/`;
  const list: (() => Promise<Setup>)[] = [];
  list.push(async () => ({
    name: 'direct (upstream)', measured: upstream.process, stop: async () => undefined,
    probes: [{ target: 'direct', url: upstreamUrl, tests: ['keep-alive', 'moderate', 'close'] }],
  }));
  const agentSetup = (acl: boolean, watched = false) => async (): Promise<Setup> => {
    const agent = await startAgent({ manifestsDir, vipCidr: '127.201.0.0/24', acl, cpu: layout.proxyCpu, readyTimeoutMs: 30_000 });
    agentCommands.add(`agent: ${agent.commandLine}`);
    const url = (name: string): string => `http://${vipOf(agent, name)}:${SERVICE_PORT}/`;
    const probes: Probe[] = acl
      ? [{ target: 'plexus http, ACL on', url: url('http'), tests: ['keep-alive', 'moderate'] }]
      : watched ? [{ target: 'plexus http, tap + stat watching', url: url('http'), tests: ['keep-alive', 'moderate'] }] : [
        { target: 'plexus http', url: url('http'), tests: ['keep-alive', 'moderate', 'close'] },
        { target: 'plexus tcp', url: url('tcp'), tests: ['keep-alive', 'moderate'] },
        { target: 'plexus split 2-way', url: url('split'), tests: ['keep-alive', 'moderate'] },
      ];
    try {
      await checkAgent(agent, probes);
      if (acl) await checkAcl(url('http'), notes, firstRound);
    } catch (err) {
      await agent.process.stop();
      throw err;
    }
    if (!watched) return { name: acl ? 'plexus agent --acl' : 'plexus agent', measured: agent.process, probes, stop: () => agent.process.stop() };
    const watcher = await watchAgent(agent.adminPort).catch(async (err: unknown) => {
      await agent.process.stop();
      throw err;
    });
    if (firstRound) notes.push('"tap + stat watching": the same agent with a tap open (rate=1000, read by the bench) and /metrics read every second during the load; compare with "plexus http" (nobody watching) in the "x plexus http" column.');
    return {
      name: 'plexus agent, watched', measured: agent.process, probes,
      stop: async () => {
        await watcher.stop();
        await agent.process.stop();
      },
    };
  };
  list.push(agentSetup(false));
  list.push(agentSetup(false, true));
  const peerSetup = (target: Target, open: () => Promise<Peer>, tests: readonly Test[] = TESTS) => async (): Promise<Setup> => {
    const peer = await open();
    return {
      name: peer.label, measured: peer.process, stop: () => peer.process.stop(),
      probes: [{ target, url: `http://${peer.address.host}:${peer.address.port}/`, tests }],
    };
  };
  if (tools.nginx) list.push(peerSetup('nginx', () => startNginxProxy(workDir, '127.0.21.1', upstream.address, layout.proxyCpu)));
  if (tools.haproxy) list.push(peerSetup('haproxy', () => startHaproxy(workDir, '127.0.22.1', upstream.address, layout.proxyCpu)));
  list.push(agentSetup(true));
  list.push(async () => {
    // Two agents as two nodes, both on the proxy core: A (measured) tunnels every request to B.
    const started: LocalAgent[] = [];
    const stop = async (): Promise<void> => { await Promise.all(started.map((agent) => agent.process.stop())); };
    try {
      for (const [node, peer, cidr] of [['node-b', 'node-a', '127.202.0.0/24'], ['node-a', 'node-b', '127.201.0.0/24']] as const) {
        const agent = await startAgent({
          manifestsDir: secure.manifestsDir, vipCidr: cidr, acl: false, cpu: layout.proxyCpu, readyTimeoutMs: 30_000,
          extraArgs: ['--node-name', node, '--secure', '--ca-dir', secure.caDir, '--tunnel-address', SECURE_TUNNELS[node],
            '--tunnel-port', String(SECURE_TUNNEL_PORT), '--tunnel-peer', `${peer}=${SECURE_TUNNELS[peer]}:${SECURE_TUNNEL_PORT}`],
        });
        started.push(agent);
        agentCommands.add(`secure agent: ${agent.commandLine}`);
      }
      const caller = started[1] as LocalAgent;
      const url = (name: string): string => `http://${vipOf(caller, name)}:${SERVICE_PORT}/`;
      const probes: Probe[] = [
        { target: 'plexus http, secure tunnel', url: url('http'), tests: ['keep-alive', 'moderate'] },
        { target: 'plexus tcp, secure tunnel', url: url('tcp'), tests: ['keep-alive', 'moderate'] },
      ];
      await checkAgent(caller, probes);
      if (firstRound) {
        notes.push('secure tunnel rows: two agents (node-a, node-b) pinned to the proxy core; wrk\'s pod is on node-a, the upstream on node-b, so each request goes agent A → mTLS HTTP/2 tunnel → agent B → upstream (a tunnel stream per pooled upstream connection of A, carrying its requests one after another). CPU columns (CPU s/10k, core busy) are agents A and B together; RSS columns are agent A\'s only. Compare with "plexus http" / "plexus tcp" (plaintext: agent A straight to the pod), and with "bare node pipes, mTLS tunnel" (the same tunnel between two bare Node pipes: the floor of these rows).');
      }
      return { name: 'plexus agents --secure', measured: caller.process, companions: [started[0] as LocalAgent].map((agent) => agent.process), probes, stop };
    } catch (err) {
      await stop();
      throw err;
    }
  });
  list.push(peerSetup('bare node TCP pipe', () => startTcpPipe('127.0.23.1', upstream.address, layout.proxyCpu), ['keep-alive', 'moderate']));
  list.push(async () => {
    if (firstRound) {
      notes.push('"bare node HTTP relay": the floor of the connection-per-request row (bench/lib/relay-floor.ts, with the agent\'s node options): accept, read the request head, send it on a pooled keep-alive connection to the upstream, pass the response back with `Connection: close`, close; no routing, policy, telemetry or timeouts.');
    }
    return peerSetup('bare node HTTP relay', () => startRelayFloor('127.0.25.1', upstream.address, layout.proxyCpu), ['close'])();
  });
  list.push(async () => {
    const { caller, destination } = await startTunnelPipes(secure.caDir, '127.0.44.1', '127.0.44.2', upstream.address, layout.proxyCpu);
    if (firstRound) {
      notes.push('"bare node pipes, mTLS tunnel": two bare Node TCP pipes as two nodes, both on the proxy core, joined by the agent\'s own tunnel code (bench/lib/tunnel-pipe.ts: a CONNECT stream per connection on one mTLS HTTP/2 session, the destination\'s L4 relay to the upstream); CPU columns are both processes. What two Node processes and the tunnel cost with no agent around them: the floor of the secure tunnel rows, to compare with "bare node TCP pipe".');
    }
    return {
      name: caller.label, measured: caller.process, companions: [destination],
      probes: [{ target: 'bare node pipes, mTLS tunnel', url: `http://${caller.address.host}:${caller.address.port}/`, tests: ['keep-alive', 'moderate'] }],
      stop: async () => {
        await caller.process.stop();
        await destination.stop();
      },
    };
  });
  return list;
}

function vipOf(agent: LocalAgent, name: string): string {
  const vip = agent.vips[`${NS}/${name}`];
  if (!vip) throw new Error(`the agent gave ${NS}/${name} no VIP: ${JSON.stringify(agent.vips)}`);
  return vip;
}

/**
 * Every VIP must be the agent's and reach the upstream: a listener the agent could not bind (the
 * address taken by another program) would send wrk somewhere else.
 */
async function checkAgent(agent: LocalAgent, probes: readonly Probe[]): Promise<void> {
  const unbound = agent.process.output().split('\n').find((line) => line.includes('listener not bound'));
  if (unbound) throw new Error(`the agent could not bind a listener: ${unbound}`);
  for (const probe of probes) {
    const answer = await httpGet(probe.url);
    if (answer.status !== 200 || answer.body !== 'ok') throw new Error(`${probe.target} (${probe.url}) answered HTTP ${answer.status} "${answer.body.slice(0, 80)}", not the upstream's 200 "ok"`);
  }
}

/** ACL mode must refuse a caller that is no pod and let wrk's source address (the client pod) in. */
async function checkAcl(url: string, notes: string[], firstRound: boolean): Promise<void> {
  const stranger = await httpGet(url, { localAddress: STRANGER_IP });
  const client = await httpGet(url);
  if (stranger.status !== 403 || client.status !== 200) {
    throw new Error(`ACL check failed: from ${STRANGER_IP} HTTP ${stranger.status} (want 403), from the default source HTTP ${client.status} (want 200)`);
  }
  if (firstRound) notes.push(`ACL check passed: ${STRANGER_IP} → 403, default source (${CLIENT_POD_IP}, the client pod) → 200.`);
}

/** `cpuPids`: whose CPU the row reports (`pid` and its companions); RSS is `pid`'s. */
async function measure(options: ProxySuiteOptions, pid: number, cpuPids: readonly number[], url: string, test: Test): Promise<Omit<Measurement, 'round' | 'target' | 'test'>> {
  const cpuOf = (): number => cpuPids.reduce((sum, each) => sum + cpuSeconds(each), 0);
  const cpuBefore = cpuOf();
  const peak = new PeakRss(pid);
  const wrk = await runWrk({
    url,
    connections: test === 'moderate' ? MODERATE_CONNECTIONS : SATURATION_CONNECTIONS,
    durationS: options.durationS,
    cpu: options.layout.loadCpu,
    workDir: options.workDir,
    ...(test === 'moderate' ? { delayMs: MODERATE_DELAY_MS } : {}),
    ...(test === 'close' ? { closeConnection: true } : {}),
  });
  const cpu = cpuOf() - cpuBefore;
  return { wrk, cpuPer10k: wrk.requests > 0 ? cpu / wrk.requests * 10_000 : NaN, coreBusy: cpu / wrk.durationS, rssLoadMb: peak.stop(pid) };
}

// ---- the report ----

function pick(measurements: readonly Measurement[], target: Target, test: Test): Measurement[] {
  return measurements.filter((m) => m.target === target && m.test === test);
}

function med(list: readonly Measurement[], value: (m: Measurement) => number | null): number | null {
  return median(list.map(value).filter((v): v is number => v !== null && Number.isFinite(v)));
}

/** Median over rounds of the per-round ratio of `target` to `base` (same test, same round). */
function ratio(measurements: readonly Measurement[], target: Target, base: Target, test: Test, value: (m: Measurement) => number | null): number | null {
  const ratios: number[] = [];
  for (const m of pick(measurements, target, test)) {
    const b = measurements.find((x) => x.target === base && x.test === test && x.round === m.round);
    const [v, bv] = [value(m), b ? value(b) : null];
    if (v !== null && bv !== null && bv !== 0) ratios.push(v / bv);
  }
  return median(ratios);
}

function difference(measurements: readonly Measurement[], target: Target, base: Target, test: Test, value: (m: Measurement) => number | null): number | null {
  const diffs: number[] = [];
  for (const m of pick(measurements, target, test)) {
    const b = measurements.find((x) => x.target === base && x.test === test && x.round === m.round);
    const [v, bv] = [value(m), b ? value(b) : null];
    if (v !== null && bv !== null) diffs.push(v - bv);
  }
  return median(diffs);
}

const rps = (m: Measurement): number => m.wrk.requestsPerSec;
const p50 = (m: Measurement): number | null => m.wrk.latency.p50Ms;
const p99 = (m: Measurement): number | null => m.wrk.latency.p99Ms;
const cpuPer10k = (m: Measurement): number | null => Number.isFinite(m.cpuPer10k) ? m.cpuPer10k : null;

function footprintOf(footprints: readonly Footprint[], target: Target): { fresh: number | null; idle: number | null } {
  const setup = target === 'direct' ? 'direct (upstream)' : target === 'nginx' ? 'nginx reverse proxy' : target === 'haproxy' ? 'haproxy'
    : target === 'bare node TCP pipe' || target === 'bare node pipes, mTLS tunnel' || target === 'bare node HTTP relay' ? target : target === 'plexus http, ACL on' ? 'plexus agent --acl'
      : target.endsWith('secure tunnel') ? 'plexus agents --secure' : 'plexus agent';
  const list = footprints.filter((f) => f.setup === setup);
  return { fresh: median(list.map((f) => f.freshMb)), idle: median(list.map((f) => f.idleMb)) };
}

function report(options: ProxySuiteOptions, measurements: readonly Measurement[], footprints: readonly Footprint[], notes: string[], upstreamLabel: string): SuiteReport {
  const present = TARGETS.filter((t) => measurements.some((m) => m.target === t));
  const hasNginx = present.includes('nginx');
  const errorsOf = (list: readonly Measurement[]): string => num(list.reduce((sum, m) => sum + wrkErrors(m.wrk), 0));
  const maxOf = (list: readonly Measurement[]): number | null => list.length === 0 ? null : Math.max(...list.map((m) => m.wrk.latency.maxMs));
  const rssLoad = (list: readonly Measurement[]): number | null => list.length === 0 ? null : Math.max(...list.map((m) => m.rssLoadMb));

  const saturation: Table = {
    title: `Keep-alive HTTP/1.1, ${SATURATION_CONNECTIONS} connections, closed loop (wrk -t1 -c${SATURATION_CONNECTIONS} -d${options.durationS}s); upstream: ${upstreamLabel}`,
    columns: ['target', 'req/s', 'x direct', 'x nginx', 'x plexus http', 'p50 ms', 'p99 ms', 'max ms', 'CPU s/10k req', 'core busy', 'RSS MB fresh/idle/load', 'errors'],
    rows: present.filter((t) => pick(measurements, t, 'keep-alive').length > 0).map((t) => {
      const list = pick(measurements, t, 'keep-alive');
      const fp = footprintOf(footprints, t);
      return [
        t === 'direct' ? 'direct (CPU/RSS: upstream)' : t, num(med(list, rps)),
        num(ratio(measurements, t, 'direct', 'keep-alive', rps), 2), hasNginx ? num(ratio(measurements, t, 'nginx', 'keep-alive', rps), 2) : '-',
        t.startsWith('plexus') ? num(ratio(measurements, t, 'plexus http', 'keep-alive', rps), 2) : '-',
        num(med(list, p50), 2), num(med(list, p99), 2), num(maxOf(list), 1),
        num(med(list, (m) => m.cpuPer10k), 3), `${num((med(list, (m) => m.coreBusy) ?? NaN) * 100)}%`,
        `${num(fp.fresh, 1)} / ${num(fp.idle, 1)} / ${num(rssLoad(list), 1)}`, errorsOf(list),
      ];
    }),
  };
  const moderate: Table = {
    title: `Moderate load: ${MODERATE_CONNECTIONS} keep-alive connections, ${MODERATE_DELAY_MS} ms think time (about 2k req/s); + = added over direct in the same round`,
    columns: ['target', 'req/s', 'p50 ms', 'p99 ms', 'max ms', '+p50 ms', '+p99 ms', 'CPU s/10k req', 'core busy', 'errors'],
    rows: present.filter((t) => pick(measurements, t, 'moderate').length > 0).map((t) => {
      const list = pick(measurements, t, 'moderate');
      return [
        t, num(med(list, rps)), num(med(list, p50), 3), num(med(list, p99), 3), num(maxOf(list), 1),
        t === 'direct' ? '-' : signed(difference(measurements, t, 'direct', 'moderate', p50), 3),
        t === 'direct' ? '-' : signed(difference(measurements, t, 'direct', 'moderate', p99), 3),
        num(med(list, (m) => m.cpuPer10k), 3), `${num((med(list, (m) => m.coreBusy) ?? NaN) * 100)}%`, errorsOf(list),
      ];
    }),
  };
  const close: Table = {
    title: `New connection per request (wrk -c${SATURATION_CONNECTIONS} -H 'Connection: close')`,
    columns: ['target', 'req/s', 'x direct', 'x nginx', 'p50 ms', 'p99 ms', 'max ms', 'CPU s/10k req', 'errors'],
    rows: present.filter((t) => pick(measurements, t, 'close').length > 0).map((t) => {
      const list = pick(measurements, t, 'close');
      return [
        t, num(med(list, rps)), num(ratio(measurements, t, 'direct', 'close', rps), 2),
        hasNginx ? num(ratio(measurements, t, 'nginx', 'close', rps), 2) : '-',
        num(med(list, p50), 2), num(med(list, p99), 2), num(maxOf(list), 1), num(med(list, (m) => m.cpuPer10k), 3), errorsOf(list),
      ];
    }),
  };

  const foreign = footprints.map((f) => f.foreignCores);
  notes.push(`foreign CPU before each setup (other programs): median ${num(median(foreign), 2)} cores, max ${num(Math.max(...foreign), 2)}`);
  const errors = measurements.reduce((sum, m) => sum + wrkErrors(m.wrk), 0);
  if (errors > 0) notes.push(`WARNING: ${errors} failed requests (non-2xx or socket errors) in total: see the errors columns`);

  const goals: GoalCheck[] = [];
  const httpVsNginx = ratio(measurements, 'plexus http', 'nginx', 'keep-alive', rps);
  goals.push({ goal: 'keep-alive HTTP through the agent >= 0.5x nginx', measured: `${num(httpVsNginx, 2)}x`, met: httpVsNginx === null ? null : httpVsNginx >= 0.5 });
  const tcpVsNginx = ratio(measurements, 'plexus tcp', 'nginx', 'keep-alive', rps);
  const pipeVsNginx = ratio(measurements, 'bare node TCP pipe', 'nginx', 'keep-alive', rps);
  goals.push({ goal: 'TCP pass-through >= 0.85x nginx', measured: `${num(tcpVsNginx, 2)}x (a bare Node pipe: ${num(pipeVsNginx, 2)}x)`, met: tcpVsNginx === null ? null : tcpVsNginx >= 0.85 });
  const addedP50 = difference(measurements, 'plexus http', 'direct', 'moderate', p50);
  const addedP99 = difference(measurements, 'plexus http', 'direct', 'moderate', p99);
  goals.push({
    goal: 'added latency at ~2k req/s: p50 <= 0.4 ms, p99 <= 1 ms',
    measured: `${signed(addedP50, 3)} / ${signed(addedP99, 3)} ms`,
    met: addedP50 === null || addedP99 === null ? null : addedP50 <= 0.4 && addedP99 <= 1,
  });
  const idle = footprintOf(footprints, 'plexus http').idle;
  const loaded = rssLoad(measurements.filter((m) => m.target.startsWith('plexus')));
  goals.push({ goal: 'agent RSS <= 60 MB idle (after warm-up)', measured: `${num(idle, 1)} MB`, met: idle === null ? null : idle <= 60 });
  goals.push({ goal: 'agent RSS <= 100 MB under load', measured: `${num(loaded, 1)} MB`, met: loaded === null ? null : loaded <= 100 });
  const perConnection = med(pick(measurements, 'plexus http', 'close'), (m) => m.cpuPer10k);
  const relayFloor = med(pick(measurements, 'bare node HTTP relay', 'close'), (m) => m.cpuPer10k);
  goals.push({
    goal: 'new connection per request <= 0.8 CPU s/10k requests',
    measured: `${num(perConnection, 3)} CPU s/10k (a bare Node HTTP relay: ${num(relayFloor, 3)})`,
    met: perConnection === null ? null : perConnection <= 0.8,
  });
  goals.push(...secureGoals(measurements));
  return { suite: 'proxy', notes, tables: [saturation, moderate, close], goals, data: { measurements, footprints } };
}

/**
 * Issue 23's secure-mode rows: the tunnel against the plaintext agent of the same round, each with
 * what bounds it: CPU per request of both agents against the plaintext agent's, and the same tunnel
 * between two bare Node pipes against one bare Node pipe.
 */
function secureGoals(measurements: readonly Measurement[]): GoalCheck[] {
  const secureHttp = 'plexus http, secure tunnel';
  const http = ratio(measurements, secureHttp, 'plexus http', 'keep-alive', rps);
  const httpCpu = ratio(measurements, secureHttp, 'plexus http', 'keep-alive', cpuPer10k);
  const addedP50 = difference(measurements, secureHttp, 'plexus http', 'moderate', p50);
  const addedP99 = difference(measurements, secureHttp, 'plexus http', 'moderate', p99);
  const tcp = ratio(measurements, 'plexus tcp, secure tunnel', 'plexus tcp', 'keep-alive', rps);
  const floorPipes = 'bare node pipes, mTLS tunnel';
  const floor = ratio(measurements, floorPipes, 'bare node TCP pipe', 'keep-alive', rps);
  const floorP50 = difference(measurements, floorPipes, 'bare node TCP pipe', 'moderate', p50);
  const floorP99 = difference(measurements, floorPipes, 'bare node TCP pipe', 'moderate', p99);
  return [
    {
      goal: 'secure mode HTTP (A -> mTLS tunnel -> B -> pod) >= 0.6x the plaintext agent',
      measured: `${num(http, 2)}x (CPU per request, A + B: ${num(httpCpu, 2)}x the plaintext agent's)`,
      met: http === null ? null : http >= 0.6,
    },
    {
      goal: 'secure mode HTTP added over plaintext at ~2k req/s: p50 <= 0.3 ms, p99 <= 1 ms',
      measured: `${signed(addedP50, 3)} / ${signed(addedP99, 3)} ms (two bare Node pipes over the tunnel: ${signed(floorP50, 3)} / ${signed(floorP99, 3)} ms over one)`,
      met: addedP50 === null || addedP99 === null ? null : addedP50 <= 0.3 && addedP99 <= 1,
    },
    {
      goal: 'secure mode TCP >= 0.8x plaintext TCP',
      measured: `${num(tcp, 2)}x (two bare Node pipes over the tunnel: ${num(floor, 2)}x one bare Node pipe)`,
      met: tcp === null ? null : tcp >= 0.8,
    },
  ];
}
