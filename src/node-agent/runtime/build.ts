/**
 * MeshConfig → MeshRuntime (pure, no I/O). A previous runtime keeps routing its in-flight
 * requests exactly as before: a Service whose MeshService changed gets new runtime objects, with
 * only live state (endpoint health and in-flight counts, weighted-choice and load-balancer
 * positions, rate-limit buckets, retry budgets) carried over from `previous` by stable keys —
 * see carried-state.ts. A Service whose MeshService is the very same object as in `previous`
 * (the compiler hands back unchanged Services as the same objects), built with the same
 * identities and options, keeps its PortRuntimes: at 10,000 Services, one changed endpoint
 * rebuilds one Service, and two generations share everything else. Which Services changed comes
 * from the diff of the two configs (routing/config-diff.ts), and the records by key and by port
 * are layered maps patched with it, so a build costs what changed, not a walk of every Service.
 *
 * A Service's runtime is built on the first use of one of its ports (lazy-ports.ts), except a
 * changed Service that the previous generation had built: that one is built at once, while the
 * previous generation's state can still be carried over (a Service never built has none).
 */
import { append } from '../../model/append.js';
import { LayeredMap } from '../../model/layered-map.js';
import { diffServices, type ServiceDiff } from '../../routing/config-diff.js';
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

/** What a build kept for the next one: its carried state, what it read, its Services by key and by port. */
interface Built {
  readonly state: CarriedState;
  readonly identities: IdentityTable;
  readonly identityList: readonly SourceIdentity[];
  readonly inputs: readonly unknown[];
  readonly records: LayeredMap<string, ServiceRecord>;
  readonly byPort: LayeredMap<string, ServiceRecord>;
  /**
   * The records whose runtime has been built, shared by the generations that derive from one
   * another (a record built on first use adds itself): each build adopts their carried entries
   * without walking every Service. Records no longer current are dropped from it as found.
   */
  readonly built: Set<ServiceRecord>;
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
  const reusable = previous !== undefined && before !== undefined && inputs.every((input, i) => input === before.inputs[i])
    && sameIdentities(config.identities, before.identityList);
  const identities = reusable ? before.identities : new IdentityTable(config.identities);
  const context: ServiceContext = { state, clock, random, identities, acl: options.acl, nodeName: config.nodeName };
  const built = reusable ? before.built : new Set<ServiceRecord>();
  const build = (record: ServiceRecord): BuiltService => {
    const { value, entries } = state.record(() => buildService(record.service, context));
    built.add(record);
    return { ports: new Map(value), carried: entries };
  };
  const { records, byPort } = reusable
    ? patchRecords(before, diffServices(previous.config.services, config.services), state, build)
    : newRecords(config.services, before, build);
  const runtime: MeshRuntime = {
    config,
    acl: options.acl,
    ports: new LazyPorts(byPort, build),
    identityOf: (ip: string): SourceIdentity | null => identities.lookup(ip),
  };
  state.release();
  builds.set(runtime, { state, identities, identityList: config.identities, inputs, records, byPort, built });
  return runtime;
}

type Build = (record: ServiceRecord) => BuiltService;

interface Records {
  readonly records: LayeredMap<string, ServiceRecord>;
  readonly byPort: LayeredMap<string, ServiceRecord>;
}

/** Every Service gets a new record; one the previous generation had built is built at once, while its state can be carried. */
function newRecords(services: readonly MeshService[], before: Built | undefined, build: Build): Records {
  const records: [string, ServiceRecord][] = [];
  const byPort: [string, ServiceRecord][] = [];
  for (const service of services) {
    const record: ServiceRecord = { service, built: null };
    if (before?.records.get(service.key)?.built) record.built = build(record);
    records.push([service.key, record]);
    for (const key of portKeys(service)) byPort.push([key, record]);
  }
  return { records: LayeredMap.of(records), byPort: LayeredMap.of(byPort) };
}

/**
 * The previous generation's records with the changed Services replaced: unchanged ones are kept
 * (with their runtime, whose carried entries this build adopts); a changed one that had been
 * built is built at once, while the previous generation's state can be carried over.
 */
function patchRecords(before: Built, diff: ServiceDiff, state: CarriedState, build: Build): Records {
  const setRecords: [string, ServiceRecord][] = [];
  const setPorts: [string, ServiceRecord][] = [];
  const deletedRecords: string[] = [];
  const deletedPorts: string[] = [];
  const rebuild: ServiceRecord[] = [];
  for (const service of diff.removed) {
    deletedRecords.push(service.key);
    append(deletedPorts, portKeys(service));
  }
  for (const service of [...diff.changed.map((c) => c.after), ...diff.added]) {
    const last = before.records.get(service.key);
    if (last !== undefined) append(deletedPorts, portKeys(last.service));
    const record: ServiceRecord = { service, built: null };
    if (last?.built) rebuild.push(record);
    setRecords.push([service.key, record]);
    for (const key of portKeys(service)) setPorts.push([key, record]);
  }
  const records = before.records.with(setRecords, deletedRecords);
  for (const record of before.built) {
    if (records.get(record.service.key) !== record || record.built === null) before.built.delete(record);
    else state.adopt(record.built.carried);
  }
  for (const record of rebuild) record.built = build(record);
  return { records, byPort: before.byPort.with(setPorts, deletedPorts) };
}

function portKeys(service: MeshService): string[] {
  return service.ports.map((port) => portKey(service.namespace, service.name, port.port, port.protocol));
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
