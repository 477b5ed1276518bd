/**
 * Local mode: the file provider feeds snapshots, each is compiled (keeping the previous
 * allocation, so VIPs and ports never move), applied to the NodeAgent (which binds each
 * Service's VIP:port), and the DNS responder's table is swapped to match.
 *
 * When ready it logs one `agent ready` line carrying `adminPort` and `dnsPort`, so callers that
 * asked for port 0 can read the ports back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AgentOptions } from './agent-options.js';
import { dnsTablesFromConfig } from '../dns/answer.js';
import { DnsResponder } from '../dns/responder.js';
import { foldChanges, type Snapshot } from '../model/snapshot.js';
import type { NodeAgent } from '../node-agent/agent.js';
import { Compiler } from '../routing/compile.js';
import type { MeshConfig } from '../routing/mesh-config.js';
import { formatIgnored, ignoredObjects, touchesIgnored, type IgnoredKind } from '../routing/ignored.js';
import type { Problem } from '../model/problem.js';
import type { SecureMode } from '../secure/secure-mode.js';
import { FileProvider } from '../providers/file-provider.js';
import type { SecureAgentOptions } from '../secure/options.js';
import { LatestWins, stopRequested } from './latest-wins.js';
import { createNodeAgent } from './node-agent.js';
import { ProblemLog, problemLines } from './problem-log.js';

export async function runLocalAgent(options: AgentOptions, signal: AbortSignal): Promise<void> {
  const dir = options.manifests;
  if (dir === null) throw new Error('local mode needs --manifests');
  const { logger } = options;
  // Secure mode is loaded only when asked for: plain local mode never loads node-forge or the tunnel.
  let secure: SecureMode | null = null;
  const agent = createNodeAgent(options, 'local', () => secure);
  const dns = options.dnsPort === 0
    ? null
    : new DnsResponder({ address: options.dnsAddress, port: options.dnsPort, domain: options.meshDomain, logger });
  const compile = localCompiler(options);
  const queue = new LatestWins<Snapshot>(async (snapshot) => {
    const config = compile(snapshot);
    // Certificates for new pods first, so their first call through the tunnel finds one.
    await secure?.setConfig(config);
    await agent.apply(config);
    dns?.setTables(dnsTablesFromConfig(config));
  }, (err) => logger.error({ err }, 'config not applied'), foldChanges);

  const provider = new FileProvider({
    dir,
    onSnapshot: (snapshot) => queue.push(snapshot),
    onStatus: (status) => {
      agent.setProviderStatus(status);
      compile.setFileProblems(status.problems ?? []);
      if (!status.healthy && status.problems === undefined) {
        logger.error({ error: status.message }, 'manifest folder not readable: the last good config stays in force');
      }
    },
  });

  const stopAll = async (): Promise<void> => {
    await provider.stop();
    await queue.settled();
    await Promise.all([dns?.stop(), agent.stop()]);
    await secure?.stop();
  };

  try {
    await agent.start().catch((err: Error) => {
      throw new Error(`admin server: cannot listen on ${options.adminAddress}:${options.adminPort}: ${err.message} (see --admin-port)`);
    });
    if (options.secure !== null) secure = await startLocalSecure(options, options.secure, agent);
    await dns?.start().catch((err: Error) => {
      throw new Error(`DNS responder: cannot listen on ${options.dnsAddress}:${options.dnsPort}: ${err.message} (see --dns-port)`);
    });
    await provider.start();
    await queue.settled();
  } catch (err) {
    await stopAll();
    throw err;
  }
  logger.info({
    adminPort: agent.adminPort,
    dnsPort: dns?.port ?? 0,
    ...(secure === null ? {} : { tunnelPort: (secure as SecureMode).tunnelPort }),
    nodeName: options.nodeName,
    manifests: dir,
    vips: compile.last()?.allocation.vips ?? {},
  }, 'agent ready');

  await stopRequested(signal);
  if (options.drain.windowMs > 0) {
    logger.info({ drainWindowMs: options.drain.windowMs }, 'stopping: not ready; still serving through the drain window');
    agent.startDraining();
    await sleep(options.drain.windowMs);
  }
  logger.info('stopping: draining in-flight traffic');
  await stopAll();
  logger.info('stopped');
}

/** What the local runner compiles with: the compile, the last config, and the folder's file problems to log with its own. */
interface LocalCompiler {
  (snapshot: Snapshot): MeshConfig;
  last(): MeshConfig | null;
  /** The file provider's current problems (files that do not parse), logged with the next compile's. */
  setFileProblems(problems: readonly Problem[]): void;
}

/**
 * Compiles each snapshot of the folder (keeping the previous allocation, so VIPs never move) and
 * logs each new problem, the folder's file problems among them, and each ignored kind once.
 */
function localCompiler(options: AgentOptions): LocalCompiler {
  const compiler = new Compiler();
  const problems = new ProblemLog(options.logger);
  let previous: MeshConfig | null = null;
  let fileProblems: readonly Problem[] = [];
  let reportedIgnored = new Set<string>();
  let lastVersion: object | undefined;
  const compile = (snapshot: Snapshot): MeshConfig => {
    const config = compiler.compile(snapshot, {
      nodeName: options.nodeName,
      meshDomain: options.meshDomain,
      // Local mode listens on VIP:port: no Kubernetes-mode listener ports.
      listenerPorts: null,
      vipCidr: options.vipCidr,
      deriveEndpointsFromPods: true,
      ...(previous ? { previous: previous.allocation } : {}),
    });
    previous = config;
    problems.report([...fileProblems.map(fileProblemLine), ...problemLines(config)]);
    // What is ignored is listed again only when an ignored object changed (at 10,000 Services, not per endpoint change).
    const changes = snapshot.changes;
    if (changes === undefined || changes.since !== lastVersion || touchesIgnored(snapshot, changes)) {
      reportedIgnored = logIgnored(options.logger, ignoredObjects(snapshot), reportedIgnored);
    }
    lastVersion = snapshot.version;
    return config;
  };
  return Object.assign(compile, {
    last: () => previous,
    setFileProblems: (current: readonly Problem[]) => { fileProblems = current; },
  });
}

/** `file: path:line: message`, the form editors and terminals turn into links. */
function fileProblemLine(problem: Problem): string {
  return `file: ${problem.source ? `${problem.source.file}:${problem.source.line}` : problem.name}: ${problem.message}`;
}

/** Secure mode from the local CA folder (`plexus ca init`); loaded only when asked for. */
async function startLocalSecure(options: AgentOptions, settings: SecureAgentOptions, agent: NodeAgent): Promise<SecureMode> {
  const [{ SecureMode }, { localCredentials }] = await Promise.all([import('../secure/secure-mode.js'), import('../secure/local-credentials.js')]);
  if (settings.caDir === null) throw new Error('secure mode in local mode needs --ca-dir');
  return SecureMode.start({
    nodeName: options.nodeName, trustDomain: settings.trustDomain,
    credentials: localCredentials({ caDir: settings.caDir, nodeName: options.nodeName, trustDomain: settings.trustDomain, lifetimeMs: settings.certLifetimeMs }),
    tunnelAddress: settings.tunnelAddress, tunnelPort: settings.tunnelPort, peers: settings.peers,
    permissive: settings.permissive, acl: options.acl, paths: options.paths, logger: options.logger, registry: agent.registry,
  });
}

/** Objects listed in the log at most this many per kind (the count says how many there are). */
const LOGGED_IGNORED = 10;

/**
 * Logs the objects of kinds Plexus does not use, one line per apiVersion and kind, when that
 * group first appears or changes; returns what is now reported.
 */
function logIgnored(logger: Logger, ignored: readonly IgnoredKind[], before: ReadonlySet<string>): Set<string> {
  const now = new Set<string>();
  for (const { apiVersion, kind, objects } of ignored) {
    const listed = objects.slice(0, LOGGED_IGNORED).map(formatIgnored);
    const line = `${apiVersion} ${kind} ${objects.length} ${listed.join(' ')}`;
    now.add(line);
    if (before.has(line)) continue;
    logger.info({ apiVersion, kind, count: objects.length, objects: listed }, 'objects ignored: Plexus does not use this kind');
  }
  return now;
}
