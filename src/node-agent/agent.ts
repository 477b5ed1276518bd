/**
 * The node agent: turns each applied MeshConfig into running listeners, and shows what it is
 * doing on the admin port.
 *
 * `apply` swaps the runtime atomically (handlers read it when a request or connection starts),
 * then reconciles the listeners: unchanged ones are untouched, removed ones drain, new ones
 * bind. Applies run one at a time, in call order.
 */
import type { Logger } from 'pino';
import { diffServices, type ServiceDiff } from '../routing/config-diff.js';
import type { MeshConfig } from '../routing/mesh-config.js';
import type { Problem } from '../model/problem.js';
import type { ProviderStatus } from '../model/provider-status.js';
import { AdminServer } from './admin/admin-server.js';
import { TapEndpoint } from './admin/tap-endpoint.js';
import { DEFAULT_HTTP_LIMITS, DEFAULT_PATH_POLICY, type HttpLimits, type PathPolicy } from './http/index.js';
import { createHttpHandlerFactory, type HttpHandlers } from './listeners/http-handlers.js';
import { listenerFactory } from './listeners/factory.js';
import { ListenerManager, type ReconcileResult } from './listeners/listener-manager.js';
import { planChange, planListeners } from './listeners/plan.js';
import { buildRuntime } from './runtime/build.js';
import { DIRECT_DIALER, type Dialer } from './runtime/dialer.js';
import type { MeshRuntime, PortRuntime, RuntimePorts } from './runtime/types.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './tcp/tcp-proxy.js';
import { AccessLog } from './telemetry/access-log.js';
import { MeshMetrics } from './telemetry/metrics.js';
import { TelemetrySink } from './telemetry/sink.js';
import { TapHub } from './telemetry/tap.js';
import { DEFAULT_UDP_IDLE_TIMEOUT_MS, DEFAULT_UDP_MAX_FLOWS } from './udp/udp-relay.js';

export interface AgentOptions {
  /** local: bind each Service's VIP at its own ports; kubernetes: bind `listenAddress` at the allocated listener ports. */
  readonly mode: 'local' | 'kubernetes';
  /** Where listeners bind in Kubernetes mode. */
  readonly listenAddress: string;
  readonly acl: boolean;
  readonly adminAddress: string;
  /** 0 = an ephemeral port (read it back from `adminPort`). */
  readonly adminPort: number;
  /** Agent events and access-log lines go through it. */
  readonly logger: Logger;
  readonly accessLog: { readonly enabled: boolean; readonly sampleRate: number };
  readonly httpLimits?: Partial<HttpLimits>;
  /** How request paths are normalised; default: escaped slashes refused, slashes merged. */
  readonly httpPaths?: Partial<PathPolicy>;
  /** Per listener; connections beyond it are refused at accept. */
  readonly maxConnections?: number;
  readonly udpIdleTimeoutMs?: number;
  /** How long removed listeners (and `stop`) wait for in-flight traffic before cutting it. */
  readonly drainTimeoutMs?: number;
  /** How upstream connections reach endpoints; default direct. Secure mode supplies its tunnel. */
  readonly dialer?: Dialer;
  /** Shown as `secure` in `/config` (secure mode's state: identities held, permissive, ...). */
  readonly secureView?: () => object;
  /** File holding the mesh's tap token; without it only loopback callers may tap. */
  readonly tapTokenFile?: string | null;
}

export const DEFAULT_MAX_CONNECTIONS = 10_000;
const NO_PORTS: RuntimePorts = new Map<string, PortRuntime>();
export const DEFAULT_DRAIN_TIMEOUT_MS = 15_000;

export interface ApplyReport extends ReconcileResult {
  /** The generation now serving (1 after the first apply). */
  readonly generation: number;
  /** Config problems plus agent problems (listeners that could not be bound). */
  readonly problems: number;
}

interface Applied {
  readonly runtime: MeshRuntime;
  readonly generation: number;
  readonly appliedAt: Date;
}

export class NodeAgent {
  readonly #options: AgentOptions;
  readonly #logger: Logger;
  readonly #metrics = new MeshMetrics();
  readonly #http: HttpHandlers;
  readonly #listeners: ListenerManager;
  readonly #admin: AdminServer;
  #applied: Applied | null = null;
  #provider: Pick<ProviderStatus, 'healthy' | 'message'> | null = null;
  #providerProblems: readonly Problem[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  /** The first apply bound its listeners: ready from then on (until draining). */
  #bound = false;
  #draining = false;
  #stopped = false;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#logger = options.logger;
    const tap = new TapHub();
    const telemetry = new TelemetrySink(this.#metrics, new AccessLog(options.logger, options.accessLog), tap);
    const dialer = options.dialer ?? DIRECT_DIALER;
    this.#http = createHttpHandlerFactory({ telemetry, limits: { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits },
      paths: { ...DEFAULT_PATH_POLICY, ...options.httpPaths }, dialer });
    const factory = listenerFactory({
      telemetry,
      http: this.#http.create,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      dialer,
      udpIdleTimeoutMs: options.udpIdleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS,
      udpMaxFlows: DEFAULT_UDP_MAX_FLOWS,
      onError: (spec, error) => this.#logger.warn({ listener: spec.id, err: error }, 'listener error'),
    });
    this.#listeners = new ListenerManager(
      factory,
      () => this.#applied?.runtime.ports ?? NO_PORTS,
      options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    );
    this.#admin = new AdminServer({
      registry: this.#metrics.registry,
      readiness: () => this.#readiness(),
      notReady: () => ({ ready: false, reason: this.#draining ? 'draining: the agent is stopping' : 'no config applied yet' }),
      config: () => this.#configView(),
      tap: new TapEndpoint(tap, options.tapTokenFile ?? null),
    });
  }

  get adminPort(): number {
    return this.#admin.port;
  }

  /** The Prometheus registry of `/metrics` (secure mode adds its series to it). */
  get registry(): MeshMetrics['registry'] {
    return this.#metrics.registry;
  }

  /** The config now serving, null before the first apply. */
  get config(): MeshConfig | null {
    return this.#applied?.runtime.config ?? null;
  }

  get generation(): number {
    return this.#applied?.generation ?? 0;
  }

  /** Starts the admin server; `/readyz` answers 503 until the first `apply`. */
  async start(): Promise<void> {
    await this.#admin.listen(this.#options.adminAddress, this.#options.adminPort);
    this.#logger.info({ address: this.#options.adminAddress, port: this.adminPort }, 'admin server listening');
  }

  apply(config: MeshConfig): Promise<ApplyReport> {
    const run = this.#queue.then(() => this.#apply(config));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Shown in `/readyz` and as `plexus_provider_healthy`; a configured agent stays ready either way. */
  setProviderStatus(status: ProviderStatus): void {
    this.#provider = { healthy: status.healthy, message: status.message };
    this.#providerProblems = status.problems ?? [];
    this.#metrics.setProviderHealthy(status.healthy);
    this.#publishProblems();
  }

  /**
   * The agent is stopping: `/readyz` fails from now on, listeners keep accepting (the endpoint
   * removal has yet to reach kube-proxy) but end each connection after its current exchange.
   * `stop` follows after the drain window.
   */
  startDraining(): void {
    this.#draining = true;
    this.#listeners.closeAfterExchange();
  }

  /** Stops accepting everywhere, lets in-flight traffic finish (up to the drain timeout), closes everything. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#queue;
    await this.#listeners.closeAll();
    this.#http.close();
    await this.#admin.close();
  }

  async #apply(config: MeshConfig): Promise<ApplyReport> {
    if (this.#stopped) throw new Error('the agent is stopped');
    const previous = this.#applied?.runtime;
    const runtime = buildRuntime(config, { acl: this.#options.acl }, previous);
    const generation = this.generation + 1;
    // The swap: from here on, every new request or connection sees the new runtime.
    this.#applied = { runtime, generation, appliedAt: new Date() };
    const diff = previous === undefined ? null : diffServices(previous.config.services, config.services);
    const result = await this.#reconcile(config, diff);
    this.#bound = true;
    const problems = this.#publishProblems();
    this.#metrics.setGeneration(generation);
    this.#metrics.setListeners(this.#listeners.kinds);
    if (diff === null || diff.removed.length > 0) await this.#metrics.retainDestinations(new Set(config.services.map((service) => service.key)));
    for (const failure of result.failed) this.#logger.error(failure, 'listener not bound');
    this.#logger.info({
      generation, added: result.added.length, removed: result.removed.length, replaced: result.replaced.length,
      kept: result.keptCount, failed: result.failed.length, problems: problems.length,
    }, 'config applied');
    return Object.assign(result, { generation, problems: problems.length });
  }

  /** The listeners of the Services that changed, when the manager can take just those; else the whole plan. */
  async #reconcile(config: MeshConfig, diff: ServiceDiff | null): Promise<ReconcileResult> {
    const { mode, listenAddress } = this.#options;
    const updated = diff === null ? null : await this.#listeners.update(planChange(diff, mode, listenAddress));
    return updated ?? this.#listeners.reconcile(planListeners(config, mode, listenAddress));
  }

  #problems(): Problem[] {
    return [...this.#providerProblems, ...(this.#applied?.runtime.config.problems ?? []), ...this.#listeners.problems];
  }

  #publishProblems(): Problem[] {
    const problems = this.#problems();
    this.#metrics.setProblems({
      error: problems.filter((p) => p.severity === 'error').length,
      warning: problems.filter((p) => p.severity === 'warning').length,
    });
    return problems;
  }

  /** Public (every caller of the admin port): counts and health, no names, addresses or rules. */
  #readiness(): object | null {
    if (!this.#applied || !this.#bound || this.#draining) return null;
    const problems = this.#problems();
    const errors = problems.filter((p) => p.severity === 'error').length;
    return {
      ready: true,
      generation: this.#applied.generation,
      appliedAt: this.#applied.appliedAt.toISOString(),
      listeners: this.#listeners.count,
      problems: problems.length,
      problemCounts: { error: errors, warning: problems.length - errors },
      provider: this.#provider,
      ...(this.#options.secureView ? { secure: secureHealth(this.#options.secureView()) } : {}),
    };
  }

  #configView(): object | null {
    if (!this.#applied) return null;
    return {
      generation: this.#applied.generation,
      appliedAt: this.#applied.appliedAt.toISOString(),
      acl: this.#options.acl,
      ...(this.#options.secureView ? { secure: this.#options.secureView() } : {}),
      listeners: this.#listeners.listeners.map((listener) => ({
        listener: listener.spec.id, kind: listener.spec.kind, port: listener.spec.portKey, active: listener.active,
      })),
      problems: this.#problems(),
      config: this.#applied.runtime.config,
    };
  }
}

/** Secure mode's health from its `/config` view: permissive or not, and its findings counted. */
function secureHealth(view: object): object {
  if ('starting' in view) return { starting: true };
  const { permissive, findings } = view as { permissive?: unknown; findings?: unknown };
  const list: readonly unknown[] = Array.isArray(findings) ? findings : [];
  const count = (severity: string): number => list.filter((f) => typeof f === 'object' && f !== null && (f as { severity?: unknown }).severity === severity).length;
  return { permissive: permissive === true, findings: { error: count('error'), warning: count('warning') } };
}
