/**
 * MeshConfig → MeshRuntime (pure, no I/O). A previous runtime keeps routing its in-flight
 * requests exactly as before: a Service whose MeshService changed gets new runtime objects, with
 * only live state (endpoint health and in-flight counts, weighted-choice and load-balancer
 * positions, rate-limit buckets, retry budgets) carried over from `previous` by stable keys —
 * see carried-state.ts. A Service whose MeshService is the very same object as in `previous`
 * (the compiler hands back unchanged Services as the same objects), built with the same
 * identities and options, keeps its PortRuntimes: at 10,000 Services, one changed endpoint
 * rebuilds one Service, and two generations share everything else.
 *
 * A Service's runtime is built on the first use of one of its ports (lazy-ports.ts), except a
 * changed Service that the previous generation had built: that one is built at once, while the
 * previous generation's state can still be carried over (a Service never built has none).
 */
import {
  portKey, type Destination, type HttpRule, type MeshConfig, type MeshPort, type MeshService, type SourceIdentity,
} from '../../routing/mesh-config.js';
import { compileAuthorizer } from './authorization.js';
import { CarriedState } from './carried-state.js';
import { compileDestination, poolFor, type DestinationContext } from './destination-router.js';
import type { EndpointPool } from './endpoint-pool.js';
import { IdentityTable } from './identities.js';
import { LazyPorts, type BuiltService, type ServiceRecord } from './lazy-ports.js';
import { compileHttpMatches } from './matchers.js';
import { ListenerRuntime, type CompiledRule, type RouteTable } from './port-runtime.js';
import { RetryBudget } from './retry-budget.js';
import { TokenBucket } from './token-bucket.js';
import { MirrorShare } from './mirror-share.js';
import type { MeshRuntime, PortRuntime, RouteResult, RuleActions, RuleMirrors, RuntimeOptions } from './types.js';

/** What a build kept for the next one: its carried state, what it read, its Services by key. */
interface Built {
  readonly state: CarriedState;
  readonly identities: IdentityTable;
  readonly identityList: readonly SourceIdentity[];
  readonly inputs: readonly unknown[];
  readonly records: ReadonlyMap<string, ServiceRecord>;
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
  const context: ServiceContext = { state, clock, random, identities, acl: options.acl, nodeName: config.nodeName };
  const build = (record: ServiceRecord): BuiltService => {
    const { value, entries } = state.record(() => buildService(record.service, context));
    return { ports: new Map(value), carried: entries };
  };
  const records = new Map<string, ServiceRecord>();
  const byPort = new Map<string, ServiceRecord>();
  for (const service of config.services) {
    const last = before?.records.get(service.key);
    let record: ServiceRecord;
    if (reusable && last?.service === service) {
      record = last;
      if (record.built !== null) state.adopt(record.built.carried);
    } else {
      record = { service, built: null };
      // Built in the previous generation: build it now, while that generation's state can be carried over.
      if (last?.built) record.built = build(record);
    }
    records.set(service.key, record);
    for (const port of service.ports) byPort.set(portKey(service.namespace, service.name, port.port, port.protocol), record);
  }
  const runtime: MeshRuntime = {
    config,
    acl: options.acl,
    ports: new LazyPorts(byPort, build),
    identityOf: (ip: string): SourceIdentity | null => identities.lookup(ip),
  };
  state.release();
  builds.set(runtime, { state, identities, identityList: config.identities, inputs, records });
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
