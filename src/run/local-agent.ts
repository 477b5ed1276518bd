/**
 * Local mode: the file provider feeds snapshots, each is compiled (keeping the previous
 * allocation, so VIPs and ports never move), applied to the NodeAgent (which binds each
 * Service's VIP:port), and the DNS responder's table is swapped to match.
 *
 * When ready it logs one `agent ready` line carrying `adminPort` and `dnsPort`, so callers that
 * asked for port 0 can read the ports back.
 */
import type { Logger } from 'pino';
import type { AgentOptions } from './agent-options.js';
import { dnsTableFromConfig } from '../dns/answer.js';
import { DnsResponder } from '../dns/responder.js';
import { formatManifestError, type ManifestError } from '../manifests/errors.js';
import type { ProviderStatus } from '../model/provider-status.js';
import { NodeAgent } from '../node-agent/agent.js';
import { Compiler } from '../routing/compile.js';
import type { MeshConfig } from '../routing/mesh-config.js';
import { formatIgnored, ignoredObjects, type IgnoredKind } from '../routing/ignored.js';
import { formatProblem, problem, type Problem } from '../model/problem.js';
import type { SecureMode } from '../secure/secure-mode.js';
import { FileProvider, type FileSnapshot } from '../providers/file-provider.js';

export async function runLocalAgent(options: AgentOptions, signal: AbortSignal): Promise<void> {
  const { logger } = options;
  const dir = options.manifests;
  if (dir === null) throw new Error('local mode needs --manifests');
  // Secure mode is loaded only when asked for: plain local mode never loads node-forge or the tunnel.
  let secure: SecureMode | null = null;
  const agent = new NodeAgent({
    mode: 'local',
    listenAddress: options.listenAddress,
    acl: options.acl,
    adminAddress: options.adminAddress,
    adminPort: options.adminPort,
    logger,
    accessLog: options.accessLog,
    tapTokenFile: options.tapTokenFile,
    udpIdleTimeoutMs: options.udpIdleTimeoutMs,
    httpPaths: options.paths,
    httpLimits: { requestTimeoutMs: options.requestTimeoutMs },
    ...(options.secure === null ? {} : {
      dialer: (endpoint, source, port) => secure === null
        ? { kind: 'refused', reason: 'secure mode is starting' }
        : secure.dialer(endpoint, source, port),
      secureView: () => secure?.view() ?? { starting: true },
    }),
  });
  const dns = options.dnsPort === 0
    ? null
    : new DnsResponder({ address: options.dnsAddress, port: options.dnsPort, domain: options.meshDomain, logger });
  const status = new ProviderStatusView(agent);
  const compiler = new Compiler();
  let previous: MeshConfig | null = null;
  let reported = new Set<string>();
  let reportedIgnored = new Set<string>();

  const applySnapshot = async (update: FileSnapshot): Promise<void> => {
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
    // Each problem is logged once, when it first appears, not on every reload.
    const current = new Set([
      ...update.errors.map((e) => `file: ${formatManifestError(e)}`),
      ...config.problems.map((p) => `${p.severity}: ${formatProblem(p)}`),
    ]);
    for (const line of current) if (!reported.has(line)) logger.warn({ problem: line }, 'config problem');
    reported = current;
    reportedIgnored = logIgnored(logger, ignoredObjects(update.snapshot), reportedIgnored);
    status.set({
      healthy: update.errors.length === 0,
      problems: update.errors.map(fileProblem),
      message: update.errors.length === 0
        ? `${update.files.length} files in ${dir}`
        : `${update.errors.length} file errors in ${dir} (last good versions kept)`,
    });
    // Certificates for new pods first, so their first call through the tunnel finds one.
    await secure?.setConfig(config);
    await agent.apply(config);
    dns?.setTable(dnsTableFromConfig(config));
  };

  // Snapshots are applied one at a time; while one applies, only the newest waiting one is kept.
  let applying: Promise<void> = Promise.resolve();
  let waiting: FileSnapshot | null = null;
  const enqueue = (update: FileSnapshot): void => {
    const idle = waiting === null;
    waiting = update;
    if (!idle) return;
    applying = applying.then(async () => {
      const next = waiting;
      waiting = null;
      if (next) await applySnapshot(next).catch((err: unknown) => logger.error({ err }, 'config not applied'));
    });
  };

  const provider = new FileProvider({
    dir,
    onSnapshot: enqueue,
    onError: (err) => {
      logger.error({ error: err.message }, 'manifest folder not readable: the last good config stays in force');
      status.set({ healthy: false, message: err.message });
    },
    onLoading: (file) => status.loading(file),
  });

  const stopAll = async (): Promise<void> => {
    provider.stop();
    await applying;
    await Promise.all([dns?.stop(), agent.stop()]);
    await secure?.stop();
  };

  try {
    await agent.start().catch((err: Error) => {
      throw new Error(`admin server: cannot listen on ${options.adminAddress}:${options.adminPort}: ${err.message} (see --admin-port)`);
    });
    if (options.secure !== null) {
      const [{ SecureMode }, { localCredentials }] = await Promise.all([import('../secure/secure-mode.js'), import('../secure/local-credentials.js')]);
      const settings = options.secure;
      if (settings.caDir === null) throw new Error('secure mode in local mode needs --ca-dir');
      secure = await SecureMode.start({
        nodeName: options.nodeName, trustDomain: settings.trustDomain,
        credentials: localCredentials({ caDir: settings.caDir, nodeName: options.nodeName, trustDomain: settings.trustDomain, lifetimeMs: settings.certLifetimeMs }),
        tunnelAddress: settings.tunnelAddress, tunnelPort: settings.tunnelPort, peers: settings.peers,
        permissive: settings.permissive, acl: options.acl, logger, registry: agent.registry,
      });
    }
    await dns?.start().catch((err: Error) => {
      throw new Error(`DNS responder: cannot listen on ${options.dnsAddress}:${options.dnsPort}: ${err.message} (see --dns-port)`);
    });
    enqueue(await provider.start());
    await applying;
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
    vips: previous === null ? {} : (previous as MeshConfig).allocation.vips,
  }, 'agent ready');

  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  logger.info('stopping: draining in-flight traffic');
  await stopAll();
  logger.info('stopped');
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
