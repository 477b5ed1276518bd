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
import { dnsTableFromConfig } from '../dns/answer.js';
import { DnsResponder } from '../dns/responder.js';
import { formatManifestError, type ManifestError } from '../manifests/errors.js';
import type { ProviderStatus } from '../model/provider-status.js';
import type { NodeAgent } from '../node-agent/agent.js';
import { Compiler } from '../routing/compile.js';
import type { MeshConfig } from '../routing/mesh-config.js';
import { formatIgnored, ignoredObjects, type IgnoredKind } from '../routing/ignored.js';
import { problem, type Problem } from '../model/problem.js';
import type { SecureMode } from '../secure/secure-mode.js';
import { FileProvider, type FileSnapshot } from '../providers/file-provider.js';
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
  const status = new ProviderStatusView(agent);
  const compile = localCompiler(options, dir, status);
  const queue = new LatestWins<FileSnapshot>(async (update) => {
    const config = compile(update);
    // Certificates for new pods first, so their first call through the tunnel finds one.
    await secure?.setConfig(config);
    await agent.apply(config);
    dns?.setTable(dnsTableFromConfig(config));
  }, (err) => logger.error({ err }, 'config not applied'));

  const provider = new FileProvider({
    dir,
    onSnapshot: (update) => queue.push(update),
    onError: (err) => {
      logger.error({ error: err.message }, 'manifest folder not readable: the last good config stays in force');
      status.set({ healthy: false, message: err.message });
    },
    onLoading: (file) => status.loading(file),
  });

  const stopAll = async (): Promise<void> => {
    provider.stop();
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
    queue.push(await provider.start());
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

/**
 * Compiles each snapshot of the folder (keeping the previous allocation, so VIPs never move),
 * logs each new problem and ignored kind once, and shows the folder's state as the provider status.
 */
function localCompiler(options: AgentOptions, dir: string, status: ProviderStatusView): ((update: FileSnapshot) => MeshConfig) & { last(): MeshConfig | null } {
  const compiler = new Compiler();
  const problems = new ProblemLog(options.logger);
  let previous: MeshConfig | null = null;
  let reportedIgnored = new Set<string>();
  const compile = (update: FileSnapshot): MeshConfig => {
    const config = compiler.compile(update.snapshot, {
      nodeName: options.nodeName,
      meshDomain: options.meshDomain,
      // Local mode listens on VIP:port: no Kubernetes-mode listener ports.
      listenerPorts: null,
      vipCidr: options.vipCidr,
      deriveEndpointsFromPods: true,
      ...(previous ? { previous: previous.allocation } : {}),
    });
    previous = config;
    problems.report([...update.errors.map((e) => `file: ${formatManifestError(e)}`), ...problemLines(config)]);
    reportedIgnored = logIgnored(options.logger, ignoredObjects(update.snapshot), reportedIgnored);
    status.set({
      healthy: update.errors.length === 0,
      problems: update.errors.map(fileProblem),
      message: update.errors.length === 0
        ? `${update.files.length} files in ${dir}`
        : `${update.errors.length} file errors in ${dir} (last good versions kept)`,
    });
    return config;
  };
  return Object.assign(compile, { last: () => previous });
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

/** A file that does not parse, as a problem located at its line (its last good objects stay in force). */
function fileProblem(error: ManifestError): Problem {
  return problem({ kind: 'File', namespace: '', name: error.file }, `${error.message} (last good version kept)`, 'error', { file: error.file, line: error.line });
}

/** The provider status the agent shows (`/readyz`), with the file being loaded, if any. */
class ProviderStatusView {
  readonly #agent: NodeAgent;
  #status: ProviderStatus | null = null;
  #loading: string | null = null;

  constructor(agent: NodeAgent) {
    this.#agent = agent;
  }

  set(status: ProviderStatus): void {
    this.#status = status;
    this.#show();
  }

  loading(file: string | null): void {
    this.#loading = file;
    this.#show();
  }

  #show(): void {
    const status = this.#status;
    if (status === null) return;
    this.#agent.setProviderStatus(this.#loading === null ? status : { ...status, message: `${status.message}; loading ${this.#loading}` });
  }
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
