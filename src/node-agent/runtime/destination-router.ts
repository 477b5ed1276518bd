/**
 * One Destination → a function answering each request with a RouteResult: a fixed reject, or a
 * smooth weighted choice among the backends that have a ready endpoint. Results are built once
 * per runtime, so routing allocates nothing per request.
 */
import type { BackendsDestination, Destination } from '../../routing/mesh-config.js';
import type { CarriedState } from './carried-state.js';
import { EndpointPool, endpointKey, type PoolSettings } from './endpoint-pool.js';
import type { RouteResult } from './types.js';
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

export function compileDestination(destination: Destination, context: DestinationContext): DestinationRoute {
  if (destination.kind === 'reject') {
    const result: RouteResult = { kind: 'reject', status: destination.status, reason: destination.reason };
    return () => result;
  }
  return compileBackends(destination, context);
}

function compileBackends(destination: BackendsDestination, context: DestinationContext): DestinationRoute {
  const pools = destination.backends.map((backend) => {
    const endpoints = backend.endpoints.map(endpointKey).join(',');
    const poolKey = `${backend.service}|${endpoints}`;
    let pool = context.pools.get(poolKey);
    if (pool === undefined) {
      const cursor = context.state.cursors.obtain(`${context.listener}|${poolKey}`, '', () => ({ value: 0 }));
      pool = new EndpointPool(backend, context.settings, cursor, (endpoint) => context.state.healthOf(backend.service, endpointKey(endpoint)));
      context.pools.set(poolKey, pool);
    }
    return pool;
  });
  const forwards: RouteResult[] = pools.map((backend) => ({ kind: 'forward', destination, backend }));
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
  const eligible = (index: number): boolean => (pools[index] as EndpointPool).hasEndpoints;
  return () => forwards[choice.pick(eligible)] ?? noEndpoints;
}
