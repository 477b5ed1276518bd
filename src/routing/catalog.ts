/**
 * Indexes the objects of one snapshot for the compile: Services, endpoints by Service, Pods,
 * Namespaces and SMI objects by key. Two objects with the same kind, namespace and name are a
 * problem; the later one in the snapshot wins (as when applying the files in order).
 */
import { fitted } from '../model/fitted.js';
import type { EndpointSliceInfo, EndpointsInfo, NamespaceInfo, PodInfo, ServiceInfo } from './kube/types.js';
import { problem, type Problem, type SourceLocation } from '../model/problem.js';
import { objectKey } from './raw.js';
import type { ReadObject } from './read-object.js';
import type { HTTPRouteGroup, TCPRoute, TrafficSplit, TrafficTarget, UDPRoute } from '../smi/model.js';
import type { GatewayRoute } from '../gateway/model.js';

export interface Catalog {
  readonly services: ReadonlyMap<string, ServiceInfo>;
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  /** By Service key, in snapshot order. */
  readonly slicesByService: ReadonlyMap<string, readonly EndpointSliceInfo[]>;
  readonly endpointsByService: ReadonlyMap<string, EndpointsInfo>;
  readonly pods: ReadonlyMap<string, PodInfo>;
  /** By root Service key. */
  readonly splitsByRoot: ReadonlyMap<string, readonly TrafficSplit[]>;
  readonly routeGroups: ReadonlyMap<string, HTTPRouteGroup>;
  readonly tcpRoutes: ReadonlyMap<string, TCPRoute>;
  readonly udpRoutes: ReadonlyMap<string, UDPRoute>;
  readonly trafficTargets: ReadonlyMap<string, TrafficTarget>;
  /** HTTPRoutes and GRPCRoutes by `gatewayRouteKey()`. */
  readonly gatewayRoutes: ReadonlyMap<string, GatewayRoute>;
  readonly problems: readonly Problem[];
}

/** `Kind namespace/name`: HTTPRoutes and GRPCRoutes share one map. */
export function gatewayRouteKey(route: { readonly kind: string; readonly namespace: string; readonly name: string }): string {
  return `${route.kind} ${objectKey(route.namespace, route.name)}`;
}

/**
 * The catalog as built: mutable maps, so the Compiler can patch it in place for the next
 * compile (patchCatalog) instead of re-indexing every object.
 */
export interface IndexedCatalog extends Catalog {
  readonly services: Map<string, ServiceInfo>;
  readonly namespaces: Map<string, NamespaceInfo>;
  readonly slicesByService: Map<string, readonly EndpointSliceInfo[]>;
  readonly endpointsByService: Map<string, EndpointsInfo>;
  readonly splitsByRoot: Map<string, readonly TrafficSplit[]>;
  readonly routeGroups: Map<string, HTTPRouteGroup>;
  readonly tcpRoutes: Map<string, TCPRoute>;
  readonly udpRoutes: Map<string, UDPRoute>;
  readonly trafficTargets: Map<string, TrafficTarget>;
  readonly gatewayRoutes: Map<string, GatewayRoute>;
}

/** An object of the previous snapshot replaced, at the same position, by another. */
export interface CatalogChange {
  readonly before: ReadObject;
  readonly after: ReadObject;
}

function namespaceOf(object: ReadObject): string {
  return 'id' in object ? object.id.namespace : object.namespace;
}

function nameOf(object: ReadObject): string {
  return 'id' in object ? object.id.name : object.name;
}

/** A map per kind, keyed by `namespace/name`, that reports a second object with the same key. */
class KindMap<T extends ReadObject> extends Map<string, T> {
  constructor(private readonly problems: Problem[]) {
    super();
  }

  add(key: string, object: T): void {
    const earlier = this.get(key);
    if (earlier) this.problems.push(duplicateProblem(object, earlier.source));
    this.set(key, object);
  }
}

export function buildCatalog(objects: readonly ReadObject[]): IndexedCatalog {
  const problems: Problem[] = [];
  const services = new KindMap<ServiceInfo>(problems);
  const namespaces = new KindMap<NamespaceInfo>(problems);
  const slices = new KindMap<EndpointSliceInfo>(problems);
  const endpointsByService = new KindMap<EndpointsInfo>(problems);
  const pods = new KindMap<PodInfo>(problems);
  const splits = new KindMap<TrafficSplit>(problems);
  const routeGroups = new KindMap<HTTPRouteGroup>(problems);
  const tcpRoutes = new KindMap<TCPRoute>(problems);
  const udpRoutes = new KindMap<UDPRoute>(problems);
  const trafficTargets = new KindMap<TrafficTarget>(problems);
  const gatewayRoutes = new KindMap<GatewayRoute>(problems);

  for (const object of objects) {
    switch (object.kind) {
      case 'Service': services.add(object.key, object); break;
      case 'Namespace': namespaces.add(object.key, object); break;
      case 'EndpointSlice': slices.add(object.key, object); break;
      case 'Endpoints': endpointsByService.add(object.key, object); break;
      case 'Pod': pods.add(object.key, object); break;
      case 'TrafficSplit': splits.add(objectKey(object.namespace, object.name), object); break;
      case 'HTTPRouteGroup': routeGroups.add(objectKey(object.namespace, object.name), object); break;
      case 'TCPRoute': tcpRoutes.add(objectKey(object.namespace, object.name), object); break;
      case 'UDPRoute': udpRoutes.add(objectKey(object.namespace, object.name), object); break;
      case 'TrafficTarget': trafficTargets.add(objectKey(object.namespace, object.name), object); break;
      case 'HTTPRoute': case 'GRPCRoute': gatewayRoutes.add(gatewayRouteKey(object), object); break;
    }
  }
  const slicesByService = new Map<string, EndpointSliceInfo[]>();
  for (const slice of slices.values()) if (slice.service) push(slicesByService, slice.service, slice);
  for (const [service, list] of slicesByService) slicesByService.set(service, fitted(list));
  const splitsByRoot = new Map<string, TrafficSplit[]>();
  for (const split of splits.values()) push(splitsByRoot, objectKey(split.namespace, split.service), split);
  return {
    services, namespaces, slicesByService, endpointsByService, pods, splitsByRoot,
    routeGroups, tcpRoutes, udpRoutes, trafficTargets, gatewayRoutes, problems,
  };
}

/**
 * Applies `changes` to `catalog` in place, as buildCatalog over the changed snapshot would have
 * built it; false (and the catalog untouched) when a change could move an object to another key
 * or index, which only a rebuild gets right: another kind or key, a slice of another Service, a
 * split of another root, a Pod (the PodIndex is keyed by the pods map itself), or a catalog with
 * duplicates (whose winners and problems depend on positions).
 */
export function patchCatalog(catalog: IndexedCatalog, changes: readonly CatalogChange[]): boolean {
  if (catalog.problems.length > 0) return false;
  for (const change of changes) if (!patchable(catalog, change)) return false;
  for (const { before, after } of changes) {
    switch (after.kind) {
      case 'Service': catalog.services.set(after.key, after); break;
      case 'Namespace': catalog.namespaces.set(after.key, after); break;
      case 'Endpoints': catalog.endpointsByService.set(after.key, after); break;
      case 'EndpointSlice': if (after.service) replaceIn(catalog.slicesByService, after.service, before, after); break;
      case 'TrafficSplit': replaceIn(catalog.splitsByRoot, objectKey(after.namespace, after.service), before, after); break;
      case 'HTTPRouteGroup': catalog.routeGroups.set(objectKey(after.namespace, after.name), after); break;
      case 'TCPRoute': catalog.tcpRoutes.set(objectKey(after.namespace, after.name), after); break;
      case 'UDPRoute': catalog.udpRoutes.set(objectKey(after.namespace, after.name), after); break;
      case 'TrafficTarget': catalog.trafficTargets.set(objectKey(after.namespace, after.name), after); break;
      case 'HTTPRoute': case 'GRPCRoute': catalog.gatewayRoutes.set(gatewayRouteKey(after), after); break;
    }
  }
  return true;
}

function catalogKey(object: ReadObject): string {
  return objectKey(namespaceOf(object), nameOf(object));
}

function patchable(catalog: IndexedCatalog, { before, after }: CatalogChange): boolean {
  if (before.kind !== after.kind || catalogKey(before) !== catalogKey(after)) return false;
  switch (before.kind) {
    case 'Pod': return false;
    case 'EndpointSlice': {
      const service = (after as EndpointSliceInfo).service;
      return service === before.service && (service === null || (catalog.slicesByService.get(service) ?? []).includes(before));
    }
    case 'TrafficSplit': {
      const root = objectKey(before.namespace, before.service);
      return (after as TrafficSplit).service === before.service && (catalog.splitsByRoot.get(root) ?? []).includes(before);
    }
    default: return true;
  }
}

/** A new list, never the old one edited: memos compare these lists by identity. */
function replaceIn<V>(map: Map<string, readonly V[]>, key: string, before: V, after: V): void {
  const list = map.get(key);
  if (list) map.set(key, list.map((item) => (item === before ? after : item)));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function duplicateProblem(object: ReadObject, earlier: SourceLocation | undefined): Problem {
  const also = earlier ? ` (also at ${earlier.file}:${earlier.line})` : '';
  return problem(
    { kind: object.kind, namespace: namespaceOf(object), name: nameOf(object) },
    `defined more than once${also}; the later definition is used`,
    'warning',
    object.source,
  );
}
