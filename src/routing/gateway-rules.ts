/**
 * Attached Gateway API routes → the HttpRules of one Service port, in Gateway API precedence.
 * Each (rule, match) pair becomes one HttpRule, so precedence is per match as the spec orders
 * it. HTTPRoute: Exact path, then the longest PathPrefix, then RegularExpression paths (longest
 * first; the spec leaves them to implementations), then a method match, then the most header
 * matches, then the most query-parameter matches. GRPCRoute: the longest matched service, then
 * method, then the most header matches. Ties: the oldest route, then namespace/name, then rule
 * order, then match order.
 */
import type { Attachment } from './gateway-attach.js';
import { olderFirst } from './gateway-attach.js';
import type { Backend, ConsumerRouting, Endpoint, Destination, HeaderEdits, HttpFilters, HttpRule, Mirror, PathEdit } from './mesh-config.js';
import type { HttpMatch } from '../model/http-match.js';
import type { Catalog } from './catalog.js';
import { servicePortId, type ServiceEndpoints } from './endpoints.js';
import type { ServiceInfo } from './kube/types.js';
import { objectKey } from './raw.js';
import { escapeRegex } from '../gateway/matches.js';
import type { BackendRef, GatewayRoute, HeaderModifier, ObjectReference, PathModifier, RouteFilters, RouteMatch, RouteRule } from '../gateway/model.js';

export interface GatewayContext {
  readonly catalog: Catalog;
  readonly endpointsOf: (service: ServiceInfo) => ServiceEndpoints;
}

export interface PortRouting {
  /** Null when no producer route is attached. */
  readonly producer: HttpRule[] | null;
  readonly consumers: ConsumerRouting[];
}

/** The producer rules and per-namespace consumer routing of one port. */
export function gatewayRouting(attached: readonly Attachment[], parentNamespace: string, context: GatewayContext): PortRouting {
  const producer: Attachment[] = [];
  const consumers = new Map<string, Attachment[]>();
  for (const attachment of attached) {
    if (attachment.consumer === null) producer.push(attachment);
    else consumers.set(attachment.consumer, [...(consumers.get(attachment.consumer) ?? []), attachment]);
  }
  const tables: ConsumerRouting[] = [...consumers.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([namespace, list]) => ({ namespace, rules: compileRules(list, parentNamespace, context), destination: noRouteMatched() }));
  return { producer: producer.length === 0 ? null : compileRules(producer, parentNamespace, context), consumers: tables };
}

/** What a port with routes answers when none matches (GAMMA: the request is rejected). */
export function noRouteMatched(): Destination {
  return { kind: 'reject', split: null, status: 404, reason: 'no route rule matches this request' };
}

interface Ranked {
  readonly key: readonly number[];
  readonly route: GatewayRoute;
  readonly rule: HttpRule;
}

function compileRules(attached: readonly Attachment[], parentNamespace: string, context: GatewayContext): HttpRule[] {
  const ranked: Ranked[] = [];
  for (const { route } of attached) {
    for (const [index, rule] of route.rules.entries()) {
      const destination = ruleDestination(rule, route, parentNamespace, context);
      const timeouts = rule.timeouts;
      for (const [matchIndex, match] of rule.matches.entries()) {
        ranked.push({
          key: [...precedence(match), index, matchIndex],
          route,
          rule: {
            matches: [httpMatch(match, index, matchIndex)],
            destination,
            route: { kind: route.kind, route: objectKey(route.namespace, route.name), index, name: rule.name },
            filters: ruleFilters(rule.filters, match, route, parentNamespace, context),
            timeouts: { requestMs: timeouts.requestMs, backendRequestMs: timeouts.backendRequestMs },
          },
        });
      }
    }
  }
  ranked.sort(comparePrecedence);
  return ranked.map((entry) => entry.rule);
}

/** Smaller sorts first. */
function precedence(match: RouteMatch): number[] {
  if (match.grpc !== null) return [-match.grpc.service, -match.grpc.method, -match.headers.length];
  const { type, value } = match.path;
  const typeRank = type === 'Exact' ? 0 : type === 'PathPrefix' ? 1 : 2;
  const length = type === 'PathPrefix' ? trimSlash(value).length : value.length;
  return [typeRank, -length, match.method === null ? 1 : 0, -match.headers.length, -match.queryParams.length];
}

function comparePrecedence(a: Ranked, b: Ranked): number {
  const specific = a.key.length - 2;
  for (let i = 0; i < specific; i++) if (a.key[i] !== b.key[i]) return (a.key[i] as number) - (b.key[i] as number);
  const older = olderFirst(a.route, b.route);
  if (older !== 0) return older;
  for (let i = specific; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return (a.key[i] as number) - (b.key[i] as number);
  return 0;
}

function trimSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The path as the data plane's start-anchored regex; header and query values match whole. */
function httpMatch(match: RouteMatch, rule: number, index: number): HttpMatch {
  const { type, value } = match.path;
  let pathRegex: string | null;
  if (type === 'Exact') pathRegex = `${escapeRegex(value)}$`;
  else if (type === 'RegularExpression') pathRegex = `(?:${value})$`;
  else pathRegex = trimSlash(value) === '' ? null : `${escapeRegex(trimSlash(value))}(?:/|$)`;
  const whole = (m: { type: string; value: string }): string => (m.type === 'Exact' ? `^${escapeRegex(m.value)}$` : `^(?:${m.value})$`);
  return {
    name: `rules[${rule}].matches[${index}]`,
    pathRegex,
    methods: match.method === null ? [] : [match.method],
    headers: match.headers.map((h) => ({ name: h.name.toLowerCase(), valueRegex: whole(h) })),
    queryParams: match.queryParams.map((q) => ({ name: q.name, valueRegex: whole(q) })),
  };
}

function ruleFilters(filters: RouteFilters, match: RouteMatch, route: GatewayRoute, parentNamespace: string, context: GatewayContext): HttpFilters {
  const prefix = trimSlash(match.path.value);
  const { redirect, rewrite } = filters;
  return {
    requestHeaders: headerEdits(filters.requestHeaders) ?? null,
    responseHeaders: headerEdits(filters.responseHeaders) ?? null,
    redirect: redirect && { ...redirect, path: pathEdit(redirect.path, prefix) },
    rewrite: rewrite && { hostname: rewrite.hostname, path: pathEdit(rewrite.path, prefix) },
    mirrors: filters.mirrors.flatMap((ref): Mirror[] => {
      const resolved = resolveBackend(ref, route, parentNamespace, context);
      if (!('endpoints' in resolved) || ref.numerator === 0) return [];
      return [{ service: resolved.key, endpoints: resolved.endpoints, numerator: ref.numerator, denominator: ref.denominator }];
    }),
  };
}

function headerEdits(modifier: HeaderModifier | null): HeaderEdits | undefined {
  return modifier === null ? undefined : { set: modifier.set, add: modifier.add, remove: modifier.remove };
}

function pathEdit(modifier: PathModifier | null, prefix: string): PathEdit | null {
  if (modifier === null) return null;
  return modifier.type === 'ReplaceFullPath' ? modifier : { type: 'ReplacePrefixMatch', prefix, value: modifier.value };
}

function ruleDestination(rule: RouteRule, route: GatewayRoute, parentNamespace: string, context: GatewayContext): Destination {
  if (rule.filters.redirect !== null) return { kind: 'reject', split: null, status: 500, reason: 'answered by the rule\'s RequestRedirect' };
  if (rule.backendRefs.length === 0) return { kind: 'reject', split: null, status: 500, reason: 'the rule has no backendRefs' };
  const backends = rule.backendRefs.map((ref) => backend(ref, route, parentNamespace, context));
  if (backends.every((b) => b.invalid !== undefined)) {
    return { kind: 'reject', split: null, status: 500, reason: backends.map((b) => b.invalid).join('; ') };
  }
  if (backends.every((b) => b.weight === 0)) return { kind: 'reject', split: null, status: 500, reason: 'every backendRef has weight 0' };
  return { kind: 'backends', split: null, backends, unready: 'fail' };
}

function backend(ref: BackendRef, route: GatewayRoute, parentNamespace: string, context: GatewayContext): Backend {
  const resolved = resolveBackend(ref, route, parentNamespace, context);
  const requestHeaders = headerEdits(ref.filters.requestHeaders);
  const responseHeaders = headerEdits(ref.filters.responseHeaders);
  return {
    service: objectKey(ref.namespace, ref.name),
    weight: ref.weight,
    endpoints: 'endpoints' in resolved ? resolved.endpoints : [],
    ...('endpoints' in resolved ? {} : { invalid: resolved.message }),
    ...(requestHeaders ? { requestHeaders } : {}),
    ...(responseHeaders ? { responseHeaders } : {}),
  };
}

export type ResolvedBackend =
  | { readonly key: string; readonly endpoints: readonly Endpoint[] }
  | { readonly reason: 'InvalidKind' | 'BackendNotFound' | 'RefNotPermitted'; readonly message: string };

/**
 * A backendRef (or mirror) → the endpoints of that Service port. Plexus lets a route send
 * traffic to its own namespace and to its parent Service's namespace (a consumer route reaching
 * the producer's Services); any other namespace is refused (no ReferenceGrant is read).
 */
export function resolveBackend(ref: ObjectReference, route: GatewayRoute, parentNamespace: string, context: GatewayContext): ResolvedBackend {
  const key = objectKey(ref.namespace, ref.name);
  if (ref.group !== '' || ref.kind !== 'Service') {
    return { reason: 'InvalidKind', message: `backendRef ${ref.group || 'core'}/${ref.kind} ${key}: only Services are supported` };
  }
  if (ref.namespace !== route.namespace && ref.namespace !== parentNamespace) {
    return { reason: 'RefNotPermitted', message: `backendRef Service ${key}: a route may refer to Services of its own namespace or of its parent Service's namespace only` };
  }
  const service = context.catalog.services.get(key);
  if (!service) return { reason: 'BackendNotFound', message: `backendRef Service ${key} does not exist` };
  if (service.type === 'ExternalName') return { reason: 'BackendNotFound', message: `backendRef Service ${key} is an ExternalName Service` };
  const port = service.ports.find((p) => p.port === ref.port && p.protocol === 'TCP');
  if (!port) return { reason: 'BackendNotFound', message: `backendRef Service ${key} has no TCP port ${ref.port ?? '(none given)'}` };
  return { key, endpoints: context.endpointsOf(service).get(servicePortId(port)) ?? [] };
}
