/**
 * The internal model of the Gateway API routes Plexus reads (HTTPRoute, GRPCRoute with Service
 * parents). Defaults are filled in as the CRDs would: every field here is explicit.
 */
import type { SourceLocation } from '../model/problem.js';
import type { GatewayKind } from './resources.js';

/** A parentRef as written (what `status.parents[].parentRef` must echo). */
export interface ParentRef {
  readonly group: string;
  readonly kind: string;
  /** As written: null when absent (then the route's own namespace). */
  readonly namespace: string | null;
  readonly name: string;
  readonly sectionName: string | null;
  readonly port: number | null;
}

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type ValueMatchType = 'Exact' | 'RegularExpression';

export interface ValueMatch {
  readonly type: ValueMatchType;
  /** Header names as written (compared case-insensitively); query names are case-sensitive. */
  readonly name: string;
  readonly value: string;
}

/** One match of a rule (HTTPRoute, or a GRPCRoute match already turned into a path). */
export interface RouteMatch {
  readonly path: { readonly type: PathMatchType; readonly value: string };
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
  /** Uppercase; null = any method. */
  readonly method: string | null;
  /**
   * GRPCRoute precedence: characters of the matched service and method (null for HTTPRoute,
   * whose precedence comes from the path).
   */
  readonly grpc: { readonly service: number; readonly method: number } | null;
}

export interface HeaderModifier {
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  /** Lowercase. */
  readonly remove: readonly string[];
}

export type PathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly value: string };

export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

export interface RedirectFilter {
  readonly scheme: 'http' | 'https' | null;
  readonly hostname: string | null;
  readonly port: number | null;
  readonly path: PathModifier | null;
  readonly statusCode: RedirectStatus;
}

export interface RewriteFilter {
  readonly hostname: string | null;
  readonly path: PathModifier | null;
}

export interface ObjectReference {
  readonly group: string;
  readonly kind: string;
  /** Filled in: the route's namespace when absent. */
  readonly namespace: string;
  readonly name: string;
  readonly port: number | null;
}

export interface RouteFilters {
  readonly requestHeaders: HeaderModifier | null;
  readonly responseHeaders: HeaderModifier | null;
  readonly redirect: RedirectFilter | null;
  readonly rewrite: RewriteFilter | null;
  readonly mirrors: readonly MirrorFilter[];
}

/** RequestMirror: copies of `numerator` out of every `denominator` requests go to the referenced Service. */
export interface MirrorFilter extends ObjectReference {
  readonly numerator: number;
  /** At least 1 and at least `numerator`; 100 for `percent`. */
  readonly denominator: number;
}

export interface BackendRef extends ObjectReference {
  readonly weight: number;
  /** Only request/response header modifiers apply per backend. */
  readonly filters: RouteFilters;
}

export interface RouteTimeouts {
  /** Milliseconds; null = not set; 0 = explicitly disabled. */
  readonly requestMs: number | null;
  readonly backendRequestMs: number | null;
}

export interface RouteRule {
  readonly name: string | null;
  readonly matches: readonly RouteMatch[];
  readonly filters: RouteFilters;
  readonly backendRefs: readonly BackendRef[];
  readonly timeouts: RouteTimeouts;
}

export interface GatewayRoute {
  readonly kind: GatewayKind;
  readonly namespace: string;
  readonly name: string;
  readonly apiVersion: string;
  readonly creationTimestamp: string;
  /** metadata.generation (0 when absent, as in manifest files): echoed as observedGeneration. */
  readonly generation: number;
  readonly source?: SourceLocation;
  /** Every parentRef as written, Gateways included (those are not Plexus's to answer). */
  readonly parentRefs: readonly ParentRef[];
  readonly rules: readonly RouteRule[];
  /**
   * Why the route cannot be used (an API server with the full CRD validation would have refused
   * it); empty when valid. An invalid route attaches nowhere and says so in its status.
   */
  readonly invalid: readonly string[];
}

export const NO_FILTERS: RouteFilters = { requestHeaders: null, responseHeaders: null, redirect: null, rewrite: null, mirrors: [] };
