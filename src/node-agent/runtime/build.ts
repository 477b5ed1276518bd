/**
 * MeshConfig → MeshRuntime (pure, no I/O). Every runtime object is new, so a previous runtime
 * keeps routing its in-flight requests exactly as before; only live state (endpoint health and
 * in-flight counts, weighted-choice and load-balancer positions, rate-limit buckets, retry
 * budgets) is carried over from `previous` by stable keys — see carried-state.ts.
 */
import { portKey, type MeshConfig, type MeshPort, type MeshService, type SourceIdentity } from '../../routing/mesh-config.js';
import { compileAuthorizer } from './authorization.js';
import { CarriedState } from './carried-state.js';
import { compileDestination, type DestinationContext } from './destination-router.js';
import type { EndpointPool } from './endpoint-pool.js';
import { IdentityTable } from './identities.js';
import { compileHttpMatches } from './matchers.js';
import { ListenerRuntime } from './port-runtime.js';
import { RetryBudget } from './retry-budget.js';
import { TokenBucket } from './token-bucket.js';
import type { MeshRuntime, PortRuntime, RuntimeOptions } from './types.js';

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
  return new ListenerRuntime({
    service,
    port,
    authorizer: compileAuthorizer(service, port, { acl: context.acl, nodeName: context.nodeName, identities: context.identities }),
    rules: port.rules.map((rule) => ({ matches: compileHttpMatches(rule.matches), route: compileDestination(rule.destination, destinations) })),
    defaultRoute: compileDestination(port.destination, destinations),
    rateLimit: context.bucket,
    retryBudget: context.budget,
    clock: context.clock,
  });
}
