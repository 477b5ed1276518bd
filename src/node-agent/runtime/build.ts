/**
 * MeshConfig → MeshRuntime (pure, no I/O). Every runtime object is new, so a previous runtime
 * keeps routing its in-flight requests exactly as before; only live state (endpoint health and
 * in-flight counts, weighted-choice and load-balancer positions, rate-limit buckets, retry
 * budgets) is carried over from `previous` by stable keys — see carried-state.ts.
 */
import {
  portKey, type Destination, type HttpRule, type MeshConfig, type MeshPort, type MeshService, type SourceIdentity,
} from '../../routing/mesh-config.js';
import { compileAuthorizer } from './authorization.js';
import { CarriedState } from './carried-state.js';
import { compileDestination, poolFor, type DestinationContext } from './destination-router.js';
import type { EndpointPool } from './endpoint-pool.js';
import { IdentityTable } from './identities.js';
import { compileHttpMatches } from './matchers.js';
import { ListenerRuntime, type CompiledRule, type RouteTable } from './port-runtime.js';
import { RetryBudget } from './retry-budget.js';
import { TokenBucket } from './token-bucket.js';
import { MirrorShare } from './mirror-share.js';
import type { MeshRuntime, PortRuntime, RouteResult, RuleActions, RuleMirrors, RuntimeOptions } from './types.js';

/** The carried state of each runtime this module built, found again when it is `previous`. */
const carriedStates = new WeakMap<MeshRuntime, CarriedState>();

export function buildRuntime(config: MeshConfig, options: RuntimeOptions, previous?: MeshRuntime): MeshRuntime {
  const state = new CarriedState(previous === undefined ? undefined : carriedStates.get(previous));
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const identities = new IdentityTable(config.identities);
  const ports = new Map<string, PortRuntime>();
  for (const service of config.services) {
    const rateLimit = service.policy.rateLimit;
    const bucket = rateLimit === null
      ? null
      : state.rateLimits.obtain(service.key, JSON.stringify(rateLimit), () => new TokenBucket(rateLimit, clock()));
    const budget = service.policy.retryAttempts <= 0
      ? null
      : state.retryBudgets.obtain(service.key, String(service.policy.retryAttempts), () => new RetryBudget(clock()));
    for (const port of service.ports) {
      const key = portKey(service.namespace, service.name, port.port, port.protocol);
      ports.set(key, buildPort(service, port, key, { state, clock, random, identities, bucket, budget, acl: options.acl, nodeName: config.nodeName }));
    }
  }
  const runtime: MeshRuntime = {
    config,
    acl: options.acl,
    ports,
    identityOf: (ip: string): SourceIdentity | null => identities.lookup(ip),
  };
  state.release();
  carriedStates.set(runtime, state);
  return runtime;
}

interface BuildContext {
  readonly state: CarriedState;
  readonly clock: () => number;
  readonly random: () => number;
  readonly identities: IdentityTable;
  readonly bucket: TokenBucket | null;
  readonly budget: RetryBudget | null;
  readonly acl: boolean;
  readonly nodeName: string;
}

function buildPort(service: MeshService, port: MeshPort, listener: string, context: BuildContext): PortRuntime {
  const destinations: DestinationContext = {
    listener,
    state: context.state,
    pools: new Map<string, EndpointPool>(),
    settings: {
      loadBalancer: service.policy.loadBalancer,
      circuitBreaker: service.policy.circuitBreaker,
      clock: context.clock,
      random: context.random,
    },
  };
  const consumers = port.consumers === undefined || port.consumers.length === 0
    ? null
    : new Map(port.consumers.map((consumer) => [consumer.namespace, routeTable(consumer.rules, consumer.destination, destinations)]));
  return new ListenerRuntime({
    service,
    port,
    authorizer: compileAuthorizer(service, port, { acl: context.acl, nodeName: context.nodeName, identities: context.identities }),
    ...routeTable(port.rules, port.destination, destinations),
    consumers,
    rateLimit: context.bucket,
    retryBudget: context.budget,
    clock: context.clock,
  });
}

function routeTable(rules: readonly HttpRule[], destination: Destination, destinations: DestinationContext): RouteTable {
  return { rules: rules.map((rule) => compileRule(rule, destinations)), defaultRoute: compileDestination(destination, destinations) };
}

function compileRule(rule: HttpRule, destinations: DestinationContext): CompiledRule {
  const matches = compileHttpMatches(rule.matches);
  const redirect = rule.filters?.redirect;
  if (redirect) {
    const result: RouteResult = { kind: 'reject', status: redirect.statusCode, reason: 'redirect', redirect };
    return { matches, route: () => result };
  }
  return { matches, route: compileDestination(rule.destination, destinations, ruleActions(rule, destinations)) };
}

function ruleMirrors(rule: HttpRule, destinations: DestinationContext): RuleMirrors | null {
  const filters = rule.filters;
  if (filters === undefined || filters.mirrors.length === 0) return null;
  return {
    targets: filters.mirrors.map((mirror) => new MirrorShare(
      poolFor({ service: mirror.service, weight: 1, endpoints: mirror.endpoints }, destinations), mirror.numerator, mirror.denominator,
    )),
    requestHeaders: filters.requestHeaders ? [filters.requestHeaders] : [],
  };
}

/** Null for a rule that changes nothing (every TrafficSplit rule). */
function ruleActions(rule: HttpRule, destinations: DestinationContext): RuleActions | null {
  const { filters, timeouts } = rule;
  if (filters === undefined && timeouts === undefined) return null;
  return {
    requestHeaders: filters?.requestHeaders ? [filters.requestHeaders] : [],
    responseHeaders: filters?.responseHeaders ? [filters.responseHeaders] : [],
    rewrite: filters?.rewrite ?? null,
    mirrors: ruleMirrors(rule, destinations),
    requestTimeoutMs: timeouts?.requestMs ?? null,
    attemptTimeoutMs: timeouts?.backendRequestMs ?? null,
  };
}
