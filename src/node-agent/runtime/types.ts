/**
 * The data plane's view of a MeshConfig: per listener, the live objects that route, balance,
 * authorize and protect traffic. Built from a MeshConfig (pure, no I/O) by `buildRuntime`;
 * state that must survive a reload (endpoint health, in-flight counts, rate-limit tokens,
 * weighted-choice positions) is carried over from the previous runtime by stable keys.
 *
 * A request captures its PortRuntime once, at its start: in-flight requests finish on the
 * routes they started with while new requests see the new config.
 */
import type {
  Backend, Destination, Endpoint, HeaderEdits, HttpRedirect, HttpRewrite, MeshConfig, MeshPort, MeshService, Policy, SourceIdentity,
} from '../../routing/mesh-config.js';

/** What routing and authorization may look at in an HTTP request. */
export interface HttpRequestInfo {
  /** Uppercase. */
  readonly method: string;
  /** The request target's path, without the query string. */
  readonly path: string;
  /** The query string without its `?` ('' when none), as received: query matches and redirects read it. */
  readonly query: string;
  /** Lowercase header name → value (repeated headers joined with ', '). */
  header(name: string): string | undefined;
}

export interface AuthzResult {
  readonly allowed: boolean;
  /** The caller's identity, when its source IP is a known pod of this node. */
  readonly identity: SourceIdentity | null;
  /** The TrafficTarget that allowed it, or why it was denied (for logs and bodies). */
  readonly reason: string;
}

export interface EndpointRuntime {
  /** `ip:port` (`[ip]:port` for IPv6) — stable across reloads. */
  readonly key: string;
  readonly endpoint: Endpoint;
  /** Requests/connections currently in flight to it (least-request uses this). */
  readonly active: number;
  /** Call when a request/connection to this endpoint starts. */
  begin(): void;
  /**
   * Call once when it ends; `failed` = connection error, timeout or 5xx (502/503/504).
   * Feeds the circuit breaker (time from `RuntimeOptions.clock`).
   */
  end(failed: boolean): void;
  /** True while the circuit breaker has it ejected. */
  isEjected(now?: number): boolean;
}

export interface BackendRuntime {
  readonly backend: Backend;
  /**
   * The backend Service's endpoints that may get new traffic (ready, not terminating, not
   * ejected). `exclude` (e.g. endpoints already tried by a retry) is avoided when anything else
   * is usable, and used as a fallback otherwise. If every usable endpoint is ejected (possible
   * only after a reload removed the others) ejection is ignored rather than failing.
   * Null only when the backend has no ready, non-terminating endpoint at all.
   */
  pickEndpoint(exclude?: ReadonlySet<EndpointRuntime>): EndpointRuntime | null;
}

/** What a Gateway API rule does to the requests it forwards, compiled once per runtime. */
export interface RuleActions {
  /** Rule filters then the chosen backendRef's, in that order. */
  readonly requestHeaders: readonly HeaderEdits[];
  readonly responseHeaders: readonly HeaderEdits[];
  readonly rewrite: HttpRewrite | null;
  /** RequestMirror filters of the rule; null when it has none. */
  readonly mirrors: RuleMirrors | null;
  /** Replaces the Service's timeout policy for the whole request (0 = none); null = policy. */
  readonly requestTimeoutMs: number | null;
  /** Each attempt; null or 0 = none. */
  readonly attemptTimeoutMs: number | null;
}

/** One RequestMirror filter of a rule: its Service and its share of requests. */
export interface MirrorTarget {
  readonly backend: BackendRuntime;
  /** Whether this request is copied (call once per request the rule forwards). */
  take(): boolean;
}

/** Where copies of a rule's requests go, and the rule's own request header edits they carry. */
export interface RuleMirrors {
  readonly targets: readonly MirrorTarget[];
  /**
   * The rule's RequestHeaderModifier only: a backendRef's own edits belong to that backend and
   * are not sent to the mirrors.
   */
  readonly requestHeaders: readonly HeaderEdits[];
}

export type RouteResult =
  | { readonly kind: 'forward'; readonly destination: Destination; readonly backend: BackendRuntime; readonly actions: RuleActions | null }
  /** The agent answers itself: an error status, or a Gateway API redirect (`redirect` set). */
  | { readonly kind: 'reject'; readonly status: number; readonly reason: string; readonly redirect?: HttpRedirect };

export interface PortRuntime {
  readonly service: MeshService;
  readonly port: MeshPort;
  readonly policy: Policy;
  /** ACL mode off → always allowed (identity still resolved for metrics and logs). */
  authorize(sourceIp: string, request: HttpRequestInfo | null): AuthzResult;
  /**
   * HTTP: rules then the default destination — those of the caller's namespace when it has
   * consumer routes for this port (`callerNamespace`: the caller's pod namespace, when known);
   * TCP/UDP: pass null. Picks the backend by weight
   * (smooth weighted round-robin) among the weight > 0 backends that have a ready endpoint.
   * When none has one, returns reject 503 `no ready endpoints for service ns/name` (every
   * candidate Service named): a `forward` result always has a backend with a ready endpoint.
   */
  route(request: HttpRequestInfo | null, callerNamespace?: string | null): RouteResult;
  /** Token bucket of the destination Service (shared by all its ports); false → 429. */
  tryAcquireRateLimit(now?: number): boolean;
  /**
   * Retry budget of the destination Service: may this request be retried now? True consumes
   * one retry from the budget (call it once per retry actually sent). Always false when the
   * policy has `retryAttempts: 0`.
   */
  canRetry(now?: number): boolean;
  /** Count a first attempt toward the retry budget's base. */
  recordAttempt(now?: number): void;
}

/** A runtime's PortRuntimes by port key; `get` may build the port's Service on its first use. */
export interface RuntimePorts {
  readonly size: number;
  has(key: string): boolean;
  get(key: string): PortRuntime | undefined;
  keys(): IterableIterator<string>;
}

export interface MeshRuntime {
  readonly config: MeshConfig;
  readonly acl: boolean;
  /** Keyed by `portKey(namespace, name, port, protocol)` from mesh-config.ts. */
  readonly ports: RuntimePorts;
  identityOf(ip: string): SourceIdentity | null;
}

export interface RuntimeOptions {
  readonly acl: boolean;
  /**
   * Milliseconds for breakers, budgets and buckets; default `Date.now`. Every optional `now`
   * argument above must come from this clock; passing one the caller already read (e.g. the
   * request's start time) saves a clock read, which costs 50–200 ns on a VM.
   */
  readonly clock?: () => number;
  /** Uniform in [0, 1) for least-request's two random choices; default `Math.random`. */
  readonly random?: () => number;
}
