/**
 * MeshConfig → MeshRuntime (pure, no I/O). A previous runtime keeps routing its in-flight
 * requests exactly as before: a Service whose MeshService changed gets new runtime objects, with
 * only live state (endpoint health and in-flight counts, weighted-choice and load-balancer
 * positions, rate-limit buckets, retry budgets) carried over from `previous` by stable keys —
 * see carried-state.ts. A Service whose MeshService is the very same object as in `previous`
 * (the compiler hands back unchanged Services as the same objects), built with the same
 * identities and options, keeps its PortRuntimes: at 10,000 Services, one changed endpoint
 * rebuilds one Service, and two generations share everything else.
 */
import {
  portKey, type Destination, type HttpRule, type MeshConfig, type MeshPort, type MeshService, type SourceIdentity,
} from '../../routing/mesh-config.js';
import { compileAuthorizer } from './authorization.js';
import { CarriedState, type Carried } from './carried-state.js';
import { compileDestination, poolFor, type DestinationContext } from './destination-router.js';
import type { EndpointPool } from './endpoint-pool.js';
import { IdentityTable } from './identities.js';
import { compileHttpMatches } from './matchers.js';
import { ListenerRuntime, type CompiledRule, type RouteTable } from './port-runtime.js';
import { RetryBudget } from './retry-budget.js';
import { TokenBucket } from './token-bucket.js';
import { MirrorShare } from './mirror-share.js';
import type { MeshRuntime, PortRuntime, RouteResult, RuleActions, RuleMirrors, RuntimeOptions } from './types.js';

/** A Service's runtime objects and the carried entries its build obtained. */
interface ServiceRuntime {
  readonly ports: readonly (readonly [string, PortRuntime])[];
  readonly carried: readonly Carried<unknown>[];
}

/** What a build kept for the next one: its carried state, what it read, its Services' runtimes. */
interface Built {
  readonly state: CarriedState;
  readonly identities: IdentityTable;
  readonly identityList: readonly SourceIdentity[];
  readonly inputs: readonly unknown[];
  readonly services: ReadonlyMap<MeshService, ServiceRuntime>;
}

/** What each runtime this module built keeps for the next build, found again when it is `previous`. */
const builds = new WeakMap<MeshRuntime, Built>();

export function buildRuntime(config: MeshConfig, options: RuntimeOptions, previous?: MeshRuntime): MeshRuntime {
  const before = previous === undefined ? undefined : builds.get(previous);
  const state = new CarriedState(before?.state);
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  // Everything a Service's runtime reads besides its MeshService: while all are the same, it can be reused.
  const inputs = [config.nodeName, options.acl, clock, random];
  const reusable = before !== undefined && inputs.every((input, i) => input === before.inputs[i])
    && sameIdentities(config.identities, before.identityList);
  const identities = reusable ? before.identities : new IdentityTable(config.identities);
  const ports = new Map<string, PortRuntime>();
  const services = new Map<MeshService, ServiceRuntime>();
  for (const service of config.services) {
    let built = reusable ? before.services.get(service) : undefined;
    if (built === undefined) {
      const { value, entries } = state.record(() => buildService(service, { state, clock, random, identities, acl: options.acl, nodeName: config.nodeName }));
      built = { ports: value, carried: entries };
    } else {
      state.adopt(built.carried);
    }
    services.set(service, built);
    for (const [key, port] of built.ports) ports.set(key, port);
  }
  const runtime: MeshRuntime = {
    config,
    acl: options.acl,
    ports,
    identityOf: (ip: string): SourceIdentity | null => identities.lookup(ip),
  };
  state.release();
  builds.set(runtime, { state, identities, identityList: config.identities, inputs, services });
  return runtime;
}

function sameIdentities(a: readonly SourceIdentity[], b: readonly SourceIdentity[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i] as SourceIdentity;
    return x.ip === y.ip && x.namespace === y.namespace && x.pod === y.pod && x.serviceAccount === y.serviceAccount;
  });
}

function buildService(service: MeshService, context: ServiceContext): [string, PortRuntime][] {
  const { state, clock } = context;
  const rateLimit = service.policy.rateLimit;
  const bucket = rateLimit === null
    ? null
    : state.rateLimits.obtain(service.key, JSON.stringify(rateLimit), () => new TokenBucket(rateLimit, clock()));
  const budget = service.policy.retryAttempts <= 0
    ? null
    : state.retryBudgets.obtain(service.key, String(service.policy.retryAttempts), () => new RetryBudget(clock()));
  return service.ports.map((port) => {
    const key = portKey(service.namespace, service.name, port.port, port.protocol);
    return [key, buildPort(service, port, key, { ...context, bucket, budget })];
  });
}

interface ServiceContext {
  readonly state: CarriedState;
  readonly clock: () => number;
  readonly random: () => number;
  readonly identities: IdentityTable;
  readonly acl: boolean;
  readonly nodeName: string;
}

interface BuildContext extends ServiceContext {
  readonly bucket: TokenBucket | null;
  readonly budget: RetryBudget | null;
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
