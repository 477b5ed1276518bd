/**
 * TrafficSplit resolution (DESIGN §4). One split per root Service: the oldest valid one (by
 * creationTimestamp, then name; objects without a timestamp count as newest). A split is valid
 * when its root is a meshed Service and every HTTPRouteGroup it names exists. Backends resolve
 * straight to their own endpoints for the root port, never back through the mesh.
 */
import { append } from '../model/append.js';
import type { Catalog } from './catalog.js';
import type { ServiceEndpoints } from './endpoints.js';
import { servicePortId } from './endpoints.js';
import type { Backend, Destination } from './mesh-config.js';
import type { HttpMatch } from '../model/http-match.js';
import type { ServiceInfo } from './kube/types.js';
import { problem, type Problem } from '../model/problem.js';
import { objectKey } from './raw.js';
import type { TrafficSplit } from '../smi/model.js';
import type { MeshedPort } from './mesh-ports.js';

export interface ActiveSplit {
  readonly split: TrafficSplit;
  readonly key: string;
  /** The merged matches of its HTTPRouteGroups; null when it splits every request. */
  readonly matches: readonly HttpMatch[] | null;
}

function splitProblem(split: TrafficSplit, message: string, severity: 'error' | 'warning' = 'error'): Problem {
  return problem({ kind: 'TrafficSplit', namespace: split.namespace, name: split.name }, message, severity, split.source);
}

function olderFirst(a: TrafficSplit, b: TrafficSplit): number {
  if (a.creationTimestamp !== b.creationTimestamp) {
    if (!a.creationTimestamp) return 1;
    if (!b.creationTimestamp) return -1;
    return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The split that applies to each meshed root Service, by root key. */
export function selectSplits(
  catalog: Catalog, isMeshedKey: (key: string) => boolean, problems: Problem[],
): Map<string, ActiveSplit> {
  const active = new Map<string, ActiveSplit>();
  for (const [rootKey, splits] of catalog.splitsByRoot) {
    const valid: ActiveSplit[] = [];
    for (const split of splits) {
      if (!catalog.services.has(rootKey)) {
        problems.push(splitProblem(split, `root Service ${rootKey} does not exist (split ignored)`));
        continue;
      }
      if (!isMeshedKey(rootKey)) {
        problems.push(splitProblem(split, `root Service ${rootKey} is not meshed (split ignored)`));
        continue;
      }
      const resolved = resolveMatches(split, catalog, problems);
      if (resolved !== undefined) valid.push({ split, key: objectKey(split.namespace, split.name), matches: resolved });
    }
    valid.sort((a, b) => olderFirst(a.split, b.split));
    const [winner, ...losers] = valid;
    if (!winner) continue;
    for (const loser of losers) {
      problems.push(splitProblem(loser.split, `TrafficSplit ${winner.key} (older) already splits Service ${rootKey} (ignored)`, 'warning'));
    }
    active.set(rootKey, winner);
  }
  return active;
}

/** Null = no matches; undefined = a named group is missing (the split does not apply). */
function resolveMatches(split: TrafficSplit, catalog: Catalog, problems: Problem[]): readonly HttpMatch[] | null | undefined {
  if (split.matches.length === 0) return null;
  const merged: HttpMatch[] = [];
  let missing = false;
  for (const name of split.matches) {
    const group = catalog.routeGroups.get(objectKey(split.namespace, name));
    if (group) append(merged, group.matches);
    else {
      problems.push(splitProblem(split, `HTTPRouteGroup ${split.namespace}/${name} is missing or invalid (split not applied)`));
      missing = true;
    }
  }
  return missing ? undefined : merged;
}

/** The destination of `port` of root Service `root` under `split`. */
export function splitDestination(
  active: ActiveSplit, root: ServiceInfo, port: MeshedPort, catalog: Catalog,
  endpointsOf: (service: ServiceInfo) => ServiceEndpoints, problems: Problem[],
): Destination {
  const { split } = active;
  const backends: Backend[] = [];
  for (const backend of split.backends) {
    const key = objectKey(split.namespace, backend.service);
    if (key === root.key) {
      problems.push(splitProblem(split, `backend ${backend.service} is the root Service itself (its own endpoints are used)`, 'warning'));
    }
    const service = key === root.key ? root : catalog.services.get(key);
    if (!service) {
      problems.push(splitProblem(split, `backend Service ${key} does not exist (dropped)`));
      continue;
    }
    if (service.type === 'ExternalName') {
      problems.push(splitProblem(split, `backend Service ${key} is an ExternalName Service without endpoints (dropped)`));
      continue;
    }
    const backendPort = service.ports.find((p) => p.port === port.port && p.protocol === port.protocol);
    if (!backendPort) {
      problems.push(splitProblem(split, `backend Service ${key} has no port ${port.port}/${port.protocol} (dropped for that port)`));
      continue;
    }
    backends.push({ service: key, weight: backend.weight, endpoints: endpointsOf(service).get(servicePortId(backendPort)) ?? [] });
  }
  if (backends.length === 0) {
    return { kind: 'reject', split: active.key, status: 503, reason: `TrafficSplit ${active.key} has no valid backend for port ${port.port}/${port.protocol}` };
  }
  if (backends.every((b) => b.weight === 0)) {
    return { kind: 'reject', split: active.key, status: 503, reason: `every backend of TrafficSplit ${active.key} has weight 0` };
  }
  return { kind: 'backends', split: active.key, backends };
}
