/**
 * `plexus demo`: the whole mesh on this machine in one command. Starts a sample server for
 * every pod of the example (or given) folder on its loopback pod IP, runs `plexus agent
 * --manifests` on the folder as a child process, prints what to try, and sends a gentle stream
 * of traffic while showing per-backend counts and agent metrics. Ctrl-C (SIGINT), SIGTERM or
 * --duration stops everything: traffic, the agent (graceful), the servers. Nothing is written.
 */
import { append } from '../../model/append.js';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { AgentProcess, type AgentReady } from '../../demo/agent-process.js';
import { DASHBOARD_METRICS, LiveView, metricTotals, renderDashboard } from '../../demo/dashboard.js';
import { startSampleServers, type SampleServers } from '../../demo/sample-servers.js';
import { demoTargets, TrafficGenerator, type DemoTarget } from '../../demo/traffic.js';
import { formatManifestError } from '../../manifests/errors.js';
import { readManifestDir } from '../../manifests/read.js';
import { compile } from '../../routing/compile.js';
import type { MeshConfig } from '../../routing/mesh-config.js';
import { DEFAULT_MESH_DOMAIN, DEFAULT_VIP_CIDR } from '../../routing/compile-options.js';
import { CliError, EXIT } from '../errors.js';
import { launchNodeOptions } from '../launch.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { defaultNodeName, manifestsOption, meshDomainOption, portOption, vipCidrOption } from '../options.js';
import { DEFAULT_ADMIN_PORT, DEFAULT_DNS_PORT } from './agent.js';

/** The shop example shipped with Plexus. */
const EXAMPLE_DIR = join(PACKAGE_ROOT, 'examples', 'shop');
/** The `plexus` entry of this build, started with bin/plexus.js's node options: the agent exactly as a user runs it. */
const PLEXUS_BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const REFRESH_MS = 1000;

interface DemoArgs {
  readonly manifests: string;
  readonly duration: number;
  readonly acl: boolean;
  readonly dnsPort: number;
  readonly adminPort: number;
  readonly meshDomain: string;
  readonly vipCidr: string;
  readonly serversOnly: boolean;
}

function builder(yargs: Argv): Argv<DemoArgs> {
  return yargs
    .option('manifests', { ...manifestsOption, default: EXAMPLE_DIR, defaultDescription: 'examples/shop' })
    .option('duration', {
      type: 'number',
      default: 0,
      describe: 'Stop by itself after this many seconds (0 = run until Ctrl-C)',
      coerce: (value: number) => {
        if (!(value >= 0)) throw new Error(`--duration: "${value}" is not a number of seconds`);
        return value;
      },
    })
    .option('acl', { type: 'boolean', default: true, describe: 'Run the agent with --acl (TrafficTargets enforced); --no-acl to turn off' })
    .option('dns-port', portOption('dns-port', 'The agent\'s DNS responder port (0 = off)', DEFAULT_DNS_PORT))
    .option('admin-port', portOption('admin-port', 'The agent\'s admin port (0 = any free port)', DEFAULT_ADMIN_PORT))
    .option('mesh-domain', meshDomainOption)
    .option('vip-cidr', vipCidrOption)
    .option('servers-only', {
      type: 'boolean',
      default: false,
      describe: 'Start only the sample pods\' servers and print the plexus agent command to run by hand (no agent, no traffic)',
    })
    .example('$0 demo', 'The example shop: sample pods, an agent and live traffic')
    .example('$0 demo --servers-only', 'Only the sample pods, for an agent you start yourself') as unknown as Argv<DemoArgs>;
}

async function compileFolder(args: DemoArgs, nodeName: string): Promise<MeshConfig> {
  const input = await readManifestDir(args.manifests).catch((err: Error) => {
    throw new CliError(err.message, EXIT.FAILURE);
  });
  if (input.errors.length > 0) {
    throw new CliError(`cannot read the manifests:\n${input.errors.map(formatManifestError).join('\n')}`, EXIT.FAILURE);
  }
  return compile(input.snapshot, {
    nodeName,
    meshDomain: args.meshDomain,
    // Local mode listens on VIP:port: no Kubernetes-mode listener ports.
    listenerPorts: null,
    vipCidr: args.vipCidr,
    deriveEndpointsFromPods: true,
  });
}

function agentArgs(args: DemoArgs, nodeName: string): string[] {
  return [
    'agent',
    '--manifests', args.manifests,
    '--node-name', nodeName,
    '--mesh-domain', args.meshDomain,
    '--vip-cidr', args.vipCidr,
    '--dns-port', String(args.dnsPort),
    '--admin-port', String(args.adminPort),
    ...(args.acl ? ['--acl'] : []),
  ];
}

/** `path` as the user would type it: relative to the working directory when it is below it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * The `plexus agent` command line that serves the folder as the demo's own agent would: the
 * options the demo passes, leaving out those equal to the agent's defaults (and the node name,
 * which defaults the same way).
 */
export function agentCommandLine(args: DemoArgs): string {
  const words = ['plexus', 'agent', '--manifests', shownPath(args.manifests)];
  if (args.acl) words.push('--acl');
  if (args.meshDomain !== DEFAULT_MESH_DOMAIN) words.push('--mesh-domain', args.meshDomain);
  if (args.vipCidr !== DEFAULT_VIP_CIDR) words.push('--vip-cidr', args.vipCidr);
  if (args.dnsPort !== DEFAULT_DNS_PORT) words.push('--dns-port', String(args.dnsPort));
  if (args.adminPort !== DEFAULT_ADMIN_PORT) words.push('--admin-port', String(args.adminPort));
  return words.map((word) => (/^[\w./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`)).join(' ');
}

function sampleServerLines(servers: SampleServers): string[] {
  const lines = ['Sample pods (servers on their pod IPs):'];
  for (const server of servers.started) lines.push(`  ${server.pod}  ${server.address}:${server.port} (${server.trafficType})`);
  for (const failure of servers.failed) lines.push(`  not started: ${failure}`);
  return lines;
}

/** What to try by hand: every line works as printed while the demo runs. */
export function instructions(
  targets: readonly DemoTarget[], ready: AgentReady, servers: SampleServers, acl: boolean, digInstalled: boolean,
): string[] {
  const lines = ['', ...sampleServerLines(servers), '', 'Try, in another terminal:'];
  const http = targets.filter((t) => t.trafficType === 'http');
  if (ready.dnsPort > 0) {
    for (const target of targets) lines.push(`  dig @127.0.0.1 -p ${ready.dnsPort} ${target.host} +short   # → ${target.vip}`);
    if (!digInstalled) lines.push('  # dig is not installed here: it comes with dnsutils (Debian/Ubuntu) or bind-utils (Fedora)');
  }
  for (const target of http.filter((t) => !t.unknownCaller)) {
    const url = `http://${target.vip}:${target.port}/`;
    if (target.sourceIp) lines.push(`  curl --interface ${target.sourceIp} ${url}   # as ${target.sourcePod}`);
    lines.push(`  curl ${url}   # ${acl ? 'an unknown caller: 403 (ACL on)' : 'any caller (ACL off)'}`);
  }
  lines.push(`  curl http://127.0.0.1:${ready.adminPort}/metrics`);
  lines.push(`  curl http://127.0.0.1:${ready.adminPort}/config`);
  append(lines, observeLines(http, ready.adminPort));
  lines.push('');
  return lines;
}

/** The observing commands, aimed at the demo's agent and its first HTTP Service. */
function observeLines(http: readonly DemoTarget[], adminPort: number): string[] {
  const admin = `--admin http://127.0.0.1:${adminPort}`;
  const service = http[0]?.service;
  if (service === undefined) return [];
  return [
    '', 'See it (golden metrics, live requests, the busiest paths, a live graph):',
    `  npx plexus stat ${service} --from ${admin}   # success rate, RPS, p50/p95/p99 per caller; the split per backend`,
    `  npx plexus tap ${service} ${admin}`,
    `  npx plexus top ${admin}`,
    `  npx plexus dashboard ${admin}   # then open the URL it prints`,
  ];
}

/** Whether an executable named `command` is on PATH, so printed lines do not send users to a missing tool. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function fetchMetrics(adminPort: number): Promise<Map<string, number> | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(2000) });
    return metricTotals(await response.text(), DASHBOARD_METRICS);
  } catch {
    return null;
  }
}

/**
 * Resolves on the first of: SIGINT/SIGTERM, the agent (if any) exited, the duration elapsed once
 * `startClock()` was called (when the demo serves: a slow start-up does not eat the duration).
 */
function untilStopped(duration: number, agentExited: Promise<unknown> | null): { stopped: Promise<string>; startClock: () => void; dispose: () => void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  let finish: (reason: string) => void = () => undefined;
  let timer: NodeJS.Timeout | null = null;
  const stopped = new Promise<string>((resolve) => {
    finish = resolve;
    onSignal = (signal) => resolve(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (agentExited) void agentExited.then(() => resolve('agent exited'));
  });
  return {
    stopped,
    startClock: () => {
      if (duration > 0) timer = setTimeout(() => finish('duration'), duration * 1000);
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (timer) clearTimeout(timer);
    },
  };
}

/** `--servers-only`: the sample pods, until stopped, for an agent the user runs by hand. */
async function serveSamplesOnly(args: DemoArgs, servers: SampleServers): Promise<void> {
  const { stopped, startClock, dispose } = untilStopped(args.duration, null);
  startClock();
  try {
    console.log([
      `Plexus demo: the sample pods of ${shownPath(args.manifests)}, no agent${servers.started.length === 0 ? ' (no server could start)' : ''}`,
      '', ...sampleServerLines(servers), '',
      'Run the agent in another terminal (npx plexus in a checkout):',
      `  ${agentCommandLine(args)}`,
      '', 'Ctrl-C stops the servers.',
    ].join('\n'));
    await stopped;
  } finally {
    dispose();
    console.log('Stopping: sample servers.');
    await servers.close();
  }
}

async function handler(args: ArgumentsCamelCase<DemoArgs>): Promise<void> {
  const nodeName = defaultNodeName();
  const config = await compileFolder(args, nodeName);
  const servers = await startSampleServers(config);
  if (args.serversOnly) return serveSamplesOnly(args, servers);
  const agent = new AgentProcess([process.execPath, ...launchNodeOptions(), PLEXUS_BIN], agentArgs(args, nodeName));
  const { stopped, startClock, dispose } = untilStopped(args.duration, agent.exited);
  let traffic: TrafficGenerator | null = null;
  let refresh: NodeJS.Timeout | null = null;
  let failure: string | null = null;
  try {
    const agentReady = agent.ready();
    const ready = await Promise.race([
      agentReady,
      // An agent that exits before it is ready: its ready() rejects with the reason it gave.
      stopped.then((reason) => (reason === 'agent exited' ? agentReady : null)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the agent was not ready in time')), READY_TIMEOUT_MS).unref()),
    ]);
    if (ready) {
      const targets = demoTargets(config, ready.vips);
      console.log(`Plexus demo: agent pid ${agent.pid} serving ${args.manifests}${args.acl ? ' with --acl' : ''}`);
      console.log(instructions(targets, ready, servers, args.acl, onPath('dig')).join('\n'));
      traffic = new TrafficGenerator(targets);
      traffic.start();
      startClock();
      const view = new LiveView(process.stdout);
      const started = Date.now();
      const draw = async (): Promise<void> => {
        const metrics = await fetchMetrics(ready.adminPort);
        if (traffic) view.draw(renderDashboard(traffic.stats, metrics, (Date.now() - started) / 1000));
      };
      refresh = setInterval(() => void draw(), REFRESH_MS);
      const reason = await stopped;
      if (reason === 'agent exited') failure = `the agent exited unexpectedly: ${agent.warnings.join('; ')}`;
      clearInterval(refresh);
      refresh = null;
      await traffic.stop();
      view.final(renderDashboard(traffic.stats, await fetchMetrics(ready.adminPort), (Date.now() - started) / 1000));
    }
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    if (refresh) clearInterval(refresh);
    await traffic?.stop();
    dispose();
    console.log('Stopping: agent (draining), sample servers.');
    await agent.stop();
    await servers.close();
  }
  if (failure) throw new CliError(failure, EXIT.FAILURE);
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Run the example shop on this machine: sample pods, an agent, live traffic and metrics',
  builder,
  handler,
};
