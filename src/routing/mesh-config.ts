/**
 * MeshConfig: everything one node agent serves, compiled from a cluster snapshot.
 *
 * It is plain data (JSON-serialisable: `/config` prints it as is), immutable once compiled, and
 * complete: the agent needs nothing else to route, balance, authorize and apply policies.
 * Regular expressions travel as source strings; the agent compiles them once per config.
 */
import type { HttpMatch } from '../model/http-match.js';
import type { Problem } from '../model/problem.js';

/** `namespace/name` of a Service, TrafficSplit, TrafficTarget, Pod. */
export type ObjectKey = string;
/** `namespace/serviceAccount`: the identity of a workload. */
export type IdentityKey = string;

export type TrafficType = 'http' | 'tcp' | 'udp';
export type Scheme = 'http' | 'h2c';
export type LoadBalancer = 'round-robin' | 'least-request';
export type PortProtocol = 'TCP' | 'UDP';

export interface MeshConfig {
  readonly nodeName: string;
  readonly meshDomain: string;
  /** Meshed Services, sorted by namespace then name. */
  readonly services: readonly MeshService[];
  /** Source identities of the pods on this node: who a caller is, by its pod IP. */
  readonly identities: readonly SourceIdentity[];
  /** Feed this back as `CompileOptions.previous` so ports and VIPs never move. */
  readonly allocation: Allocation;
  /** Every problem found, sorted by kind, namespace, name. */
  readonly problems: readonly Problem[];
  /**
   * Gateway API routes read (HTTPRoute, GRPCRoute), sorted by kind, namespace, name, with what
   * Plexus did with each of their Service parents: the leader writes it as their status.
   */
  readonly routes?: readonly RouteStatus[];
}

export interface Allocation {
  /** Kubernetes mode: agent listener port per Service port, keyed by `portKey()` (empty in local mode). */
  readonly ports: Readonly<Record<string, number>>;
  /** Local mode only: virtual IP per Service, keyed by `namespace/name`. */
  readonly vips: Readonly<Record<ObjectKey, string>>;
}

/** The allocation key of one Service port: `namespace/name:port/PROTOCOL`. */
export function portKey(namespace: string, name: string, port: number, protocol: PortProtocol): string {
  return `${namespace}/${name}:${port}/${protocol}`;
}

export interface MeshService {
  readonly key: ObjectKey;
  readonly namespace: string;
  readonly name: string;
  /** The Service's own cluster IP, when it has one (informational; routing never uses it). */
  readonly clusterIP: string | null;
  /** Local mode: the virtual IP the agent listens on and DNS answers with. */
  readonly vip: string | null;
  readonly ports: readonly MeshPort[];
  readonly policy: Policy;
}

export interface MeshPort {
  /** The Service port's name, '' when unnamed. */
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly trafficType: TrafficType;
  /** Only meaningful for `http` ports: `h2c` proxies HTTP/2 cleartext end to end. */
  readonly scheme: Scheme;
  /** The agent listener port (Kubernetes mode). 0 in local mode, and when none could be allocated (see problems). */
  readonly listenerPort: number;
  /**
   * HTTP only: rules tried in order; the first whose `matches` accepts the request decides.
   * Requests no rule matches go to `destination`.
   */
  readonly rules: readonly HttpRule[];
  /** Where traffic goes when no rule matched (TCP/UDP: always). */
  readonly destination: Destination;
  /**
   * Consumer routes (Gateway API routes in another namespace than the Service's): for clients
   * of that namespace they replace `rules` and `destination`. Sorted by namespace; absent when none.
   */
  readonly consumers?: readonly ConsumerRouting[];
  /**
   * Authorization (ACL mode): a request or connection is allowed when some rule lists the
   * caller's identity and, for HTTP, the request matches (null `http` = every request).
   * An empty list denies everyone.
   */
  readonly access: readonly AccessRule[];
}

export interface ConsumerRouting {
  /** The clients' namespace (and the routes'). */
  readonly namespace: string;
  readonly rules: readonly HttpRule[];
  readonly destination: Destination;
}

export interface HttpRule {
  /** OR over the list; each match is an AND of its path, method, header and query conditions. */
  readonly matches: readonly HttpMatch[];
  readonly destination: Destination;
  /** Gateway API rules only (absent on a TrafficSplit's rule): the route rule it comes from. */
  readonly route?: RouteRuleRef;
  /** Gateway API: what happens to a matched request besides routing. */
  readonly filters?: HttpFilters;
  readonly timeouts?: RuleTimeouts;
}

export interface RouteRuleRef {
  readonly kind: 'HTTPRoute' | 'GRPCRoute';
  /** `namespace/name`. */
  readonly route: ObjectKey;
  /** `rules[index]` of the route, and its name when it has one. */
  readonly index: number;
  readonly name: string | null;
}

export interface HeaderEdits {
  /** Replace (or add) these headers. */
  readonly set: readonly { readonly name: string; readonly value: string }[];
  /** Append these values (after any existing ones). */
  readonly add: readonly { readonly name: string; readonly value: string }[];
  /** Lowercase names to drop. */
  readonly remove: readonly string[];
}

/**
 * `ReplacePrefixMatch` replaces `prefix` (the PathPrefix value the rule matched, without a
 * trailing slash) at the start of the path, keeping what follows it.
 */
export type PathEdit =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly prefix: string; readonly value: string };

export interface HttpRedirect {
  /** Null = keep the request's (http). */
  readonly scheme: 'http' | 'https' | null;
  /** Null = the request's Host without its port. */
  readonly hostname: string | null;
  /** Null = the request's port, or the new scheme's well-known one when the scheme changes. */
  readonly port: number | null;
  readonly path: PathEdit | null;
  readonly statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface HttpRewrite {
  /** Replaces the Host header sent to the endpoint. */
  readonly hostname: string | null;
  readonly path: PathEdit | null;
}

export interface HttpFilters {
  readonly requestHeaders: HeaderEdits | null;
  readonly responseHeaders: HeaderEdits | null;
  /** Answered by the agent itself; the rule's destination is not used. */
  readonly redirect: HttpRedirect | null;
  readonly rewrite: HttpRewrite | null;
  /** A copy of each request (or of the share each says) goes to one endpoint of each; their answers are dropped. */
  readonly mirrors: readonly Mirror[];
}

export interface Mirror {
  readonly service: ObjectKey;
  readonly endpoints: readonly Endpoint[];
  /** `numerator` of every `denominator` requests are mirrored (1/1 = all). */
  readonly numerator: number;
  readonly denominator: number;
}

export interface RuleTimeouts {
  /** Whole request, retries included, in ms: replaces the Service's timeout policy. Null = not set, 0 = none. */
  readonly requestMs: number | null;
  /** Each attempt to an endpoint, in ms. Null = not set, 0 = none. */
  readonly backendRequestMs: number | null;
}

export type Destination = BackendsDestination | RejectDestination;

/** Traffic is spread over backends by weight, then over each backend's endpoints by the LB. */
export interface BackendsDestination {
  readonly kind: 'backends';
  /** The TrafficSplit that produced this destination, if any (`namespace/name`). */
  readonly split: ObjectKey | null;
  /** Weight > 0 for at least one backend; weight-0 backends are kept for visibility only. */
  readonly backends: readonly Backend[];
  /**
   * A backend without a ready endpoint gives its share to the others (SMI);
   * with `fail` (Gateway API) its share is answered 503. Absent = redistribute.
   */
  readonly unready?: 'fail';
}

/** No backend may receive traffic: answer `status` (404 no route matched, 500 no valid backend, 503 no weight). */
export interface RejectDestination {
  readonly kind: 'reject';
  readonly split: ObjectKey | null;
  readonly status: 404 | 500 | 503;
  readonly reason: string;
}

export interface Backend {
  /** The Service whose endpoints serve this share (`namespace/name`). */
  readonly service: ObjectKey;
  readonly weight: number;
  /** Endpoints for the matching port, straight to the pods: never back through the mesh. */
  readonly endpoints: readonly Endpoint[];
  /** Gateway API: why this backendRef cannot be used (its share is answered 500); absent when valid. */
  readonly invalid?: string;
  /** Gateway API backendRef filters; absent when none. */
  readonly requestHeaders?: HeaderEdits;
  readonly responseHeaders?: HeaderEdits;
}

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  /** EndpointSlice conditions; only `ready` endpoints get new requests. */
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName: string | null;
  /** `namespace/name` of the backing Pod, when known. */
  readonly pod: ObjectKey | null;
  /** The backing Pod's ServiceAccount, when known. */
  readonly serviceAccount: string | null;
}

export interface AccessRule {
  /** The TrafficTarget granting it (`namespace/name`). */
  readonly trafficTarget: ObjectKey;
  /** Identities allowed (`namespace/serviceAccount`). */
  readonly sources: readonly IdentityKey[];
  /** HTTP requests allowed; null = every request / connection on this port. */
  readonly http: readonly HttpMatch[] | null;
}

export interface SourceIdentity {
  readonly ip: string;
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
}

export interface Policy {
  /** Extra attempts after the first; 0 = no retries. */
  readonly retryAttempts: number;
  /** Per-request timeout in ms; 0 = none. */
  readonly timeoutMs: number;
  readonly loadBalancer: LoadBalancer;
  readonly circuitBreaker: CircuitBreakerPolicy | null;
  readonly rateLimit: RateLimitPolicy | null;
}

export interface CircuitBreakerPolicy {
  readonly consecutiveErrors: number;
  readonly ejectionMs: number;
}

export interface RateLimitPolicy {
  /** Requests per second. */
  readonly average: number;
  readonly burst: number;
}

/** What Plexus did with one Gateway API route: `status.parents[]` for its Service parents. */
export interface RouteStatus {
  readonly kind: 'HTTPRoute' | 'GRPCRoute';
  readonly namespace: string;
  readonly name: string;
  /** metadata.generation the conditions describe. */
  readonly generation: number;
  readonly parents: readonly RouteParentStatus[];
}

export interface RouteParentStatus {
  /** The parentRef as written, namespace filled in. */
  readonly parentRef: {
    readonly group: string;
    readonly kind: string;
    readonly namespace: string;
    readonly name: string;
    readonly port?: number;
    readonly sectionName?: string;
  };
  readonly conditions: readonly RouteCondition[];
}

export interface RouteCondition {
  readonly type: 'Accepted' | 'ResolvedRefs';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}
