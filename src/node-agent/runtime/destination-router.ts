/**
 * One Destination → a function answering each request with a RouteResult: a fixed reject, or a
 * smooth weighted choice among the backends that have a ready endpoint (SMI), or among all
 * weighted backends, a chosen one without ready endpoints answering 503 and an invalid one 500
 * (Gateway API, `unready: 'fail'`). Results are built once per runtime, so routing allocates
 * nothing per request.
 */
import type { Backend, BackendsDestination, Destination } from '../../routing/mesh-config.js';
import type { CarriedState } from './carried-state.js';
import { EndpointPool, endpointKey, type PoolSettings } from './endpoint-pool.js';
import type { RouteResult, RuleActions } from './types.js';
import { SmoothWeightedChoice } from './weighted-choice.js';

export type DestinationRoute = () => RouteResult;

export interface DestinationContext {
  /** The listener's `portKey()`: weighted-choice and cursor state are per listener. */
  readonly listener: string;
  readonly settings: PoolSettings;
  readonly state: CarriedState;
  /** This listener's pools by backend Service + endpoint set, shared by its destinations. */
  readonly pools: Map<string, EndpointPool>;
}

/** `actions`: what the Gateway API rule this destination belongs to does to the requests. */
export function compileDestination(destination: Destination, context: DestinationContext, actions: RuleActions | null = null): DestinationRoute {
  if (destination.kind === 'reject') {
    const result: RouteResult = { kind: 'reject', status: destination.status, reason: destination.reason };
    return () => result;
  }
  return compileBackends(destination, context, actions);
}

/** The endpoint pool of a backend, shared by the listener's destinations that use the same one. */
export function poolFor(backend: Backend, context: DestinationContext): EndpointPool {
  const endpoints = backend.endpoints.map(endpointKey).join(',');
  const poolKey = `${backend.service}|${endpoints}`;
  let pool = context.pools.get(poolKey);
  if (pool === undefined) {
    const cursor = context.state.cursors.obtain(`${context.listener}|${poolKey}`, '', () => ({ value: 0 }));
    pool = new EndpointPool(backend, context.settings, cursor, (endpoint) => context.state.healthOf(backend.service, endpointKey(endpoint)));
    context.pools.set(poolKey, pool);
  }
  return pool;
}

/** The rule's actions with the backendRef's own header filters after the rule's. */
function backendActions(actions: RuleActions | null, backend: Backend): RuleActions | null {
  if (backend.requestHeaders === undefined && backend.responseHeaders === undefined) return actions;
  const base: RuleActions = actions ?? { requestHeaders: [], responseHeaders: [], rewrite: null, mirrors: null, requestTimeoutMs: null, attemptTimeoutMs: null };
  return {
    ...base,
    requestHeaders: backend.requestHeaders ? [...base.requestHeaders, backend.requestHeaders] : base.requestHeaders,
    responseHeaders: backend.responseHeaders ? [...base.responseHeaders, backend.responseHeaders] : base.responseHeaders,
  };
}

function compileBackends(destination: BackendsDestination, context: DestinationContext, actions: RuleActions | null): DestinationRoute {
  const pools = destination.backends.map((backend) => poolFor(backend, context));
  const forwards: RouteResult[] = pools.map((backend, i) => {
    const config = destination.backends[i] as Backend;
    if (config.invalid !== undefined) return { kind: 'reject', status: 500, reason: config.invalid };
    return { kind: 'forward', destination, backend, actions: backendActions(actions, config) };
  });
  const candidates = destination.backends.filter((backend) => backend.weight > 0).map((backend) => backend.service);
  const noEndpoints: RouteResult = {
    kind: 'reject',
    status: 503,
    reason: candidates.length === 0
      ? 'no backend has a weight above 0'
      : `no ready endpoints for service${candidates.length > 1 ? 's' : ''} ${candidates.join(', ')}`,
  };
  const signature = JSON.stringify([destination.split, destination.backends.map((b) => [b.service, b.weight])]);
  const choice = context.state.choices.obtain(`${context.listener}|${signature}`, signature,
    () => new SmoothWeightedChoice(destination.backends.map((backend) => backend.weight)));
  if (destination.unready === 'fail') {
    const unready: RouteResult[] = destination.backends.map((backend) => ({ kind: 'reject', status: 503, reason: `no ready endpoints for service ${backend.service}` }));
    const every = (): boolean => true;
    return () => {
      const index = choice.pick(every);
      const pool = pools[index];
      if (pool === undefined) return noEndpoints;
      return pool.hasEndpoints || destination.backends[index]?.invalid !== undefined ? forwards[index] as RouteResult : unready[index] as RouteResult;
    };
  }
  const eligible = (index: number): boolean => (pools[index] as EndpointPool).hasEndpoints;
  return () => forwards[choice.pick(eligible)] ?? noEndpoints;
}
