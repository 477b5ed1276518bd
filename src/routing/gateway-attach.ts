/**
 * Which Gateway API routes attach to which Service ports (GEP-1294, "xRoutes Mesh Binding"):
 * a parentRef `{group: "", kind: Service, name, namespace?, port?}` attaches a route to that
 * port of the Service, or to all of them without `port`. A route in the Service's namespace is a
 * producer route (every client); one in another namespace a consumer route (only the clients of
 * its namespace). HTTPRoutes need an HTTP port, GRPCRoutes an h2c one; where both kinds attach
 * to one port, GRPCRoute wins and the HTTPRoutes are Conflicted there.
 */
import type { Catalog } from './catalog.js';
import type { MeshedPort } from './mesh-ports.js';
import { objectKey } from './raw.js';
import type { GatewayRoute, ParentRef } from '../gateway/model.js';

/** One route attached to one Service port through one of its parentRefs. */
export interface Attachment {
  readonly route: GatewayRoute;
  /** Its namespace when it is a consumer route; null for a producer route. */
  readonly consumer: string | null;
}

export interface ParentOutcome {
  readonly route: GatewayRoute;
  readonly parentIndex: number;
  readonly parentNamespace: string;
  /** Service ports it attached to; empty = not accepted, for `reason`. */
  readonly ports: readonly number[];
  readonly reason: string;
  readonly message: string;
}

export interface Attachments {
  /** Service key → `portKey`-less port id (`port/PROTOCOL`) → attached routes, winning kind only. */
  readonly byService: ReadonlyMap<string, ReadonlyMap<string, readonly Attachment[]>>;
  /** One per Service parentRef of every route, in route then parentRef order. */
  readonly outcomes: readonly ParentOutcome[];
}

export function isServiceParent(ref: ParentRef): boolean {
  return (ref.group === '' || ref.group === 'core') && ref.kind === 'Service';
}

interface Candidate {
  readonly outcome: { route: GatewayRoute; parentIndex: number; parentNamespace: string; ports: number[]; reason: string; message: string };
  readonly serviceKey: string;
  readonly ports: readonly MeshedPort[];
}

export function attachRoutes(catalog: Catalog, meshedPortsOf: (key: string) => readonly MeshedPort[] | null): Attachments {
  const candidates: Candidate[] = [];
  const outcomes: ParentOutcome[] = [];
  for (const route of catalog.gatewayRoutes.values()) {
    for (const [parentIndex, ref] of route.parentRefs.entries()) {
      if (!isServiceParent(ref)) continue;
      const parentNamespace = ref.namespace ?? route.namespace;
      const outcome = { route, parentIndex, parentNamespace, ports: [] as number[], reason: 'Accepted', message: '' };
      outcomes.push(outcome);
      const found = eligiblePorts(route, ref, parentNamespace, catalog, meshedPortsOf);
      if ('reason' in found) {
        outcome.reason = found.reason;
        outcome.message = found.message;
      } else {
        candidates.push({ outcome, serviceKey: objectKey(parentNamespace, ref.name), ports: found.ports });
      }
    }
  }
  return { byService: resolveConflicts(candidates), outcomes };
}

type Eligible = { readonly ports: readonly MeshedPort[] } | { readonly reason: string; readonly message: string };

function eligiblePorts(
  route: GatewayRoute, ref: ParentRef, namespace: string, catalog: Catalog, meshedPortsOf: (key: string) => readonly MeshedPort[] | null,
): Eligible {
  if (route.invalid.length > 0) return { reason: 'UnsupportedValue', message: `the route is invalid: ${route.invalid.join('; ')}` };
  const key = objectKey(namespace, ref.name);
  const service = catalog.services.get(key);
  if (!service) return { reason: 'NoMatchingParent', message: `Service ${key} does not exist` };
  const meshed = meshedPortsOf(key);
  if (meshed === null) {
    const why = service.type === 'ExternalName' ? 'an ExternalName Service' : service.headless ? 'a headless Service' : 'not meshed (plexus.dev/mesh: "true" on it or its namespace)';
    return { reason: 'NoMatchingParent', message: `Service ${key} is ${why}` };
  }
  const named = meshed.filter((port) => (ref.port === null || port.port === ref.port) && (ref.sectionName === null || port.name === ref.sectionName));
  if (named.length === 0) {
    const which = [ref.port === null ? '' : `port ${ref.port}`, ref.sectionName === null ? '' : `a port named "${ref.sectionName}"`].filter(Boolean).join(' as ');
    return { reason: 'NoMatchingParent', message: `Service ${key} has no ${which}` };
  }
  const fit = named.filter((port) => port.trafficType === 'http' && (route.kind === 'HTTPRoute' || port.scheme === 'h2c'));
  if (fit.length === 0) {
    const need = route.kind === 'GRPCRoute' ? 'an HTTP port with the h2c scheme (appProtocol kubernetes.io/h2c, or plexus.dev/scheme: "h2c")' : 'an HTTP port';
    return { reason: 'UnsupportedValue', message: `a ${route.kind} needs ${need}; Service ${key} port ${named.map((p) => `${p.port} is ${p.trafficType === 'http' ? p.scheme : p.trafficType}`).join(', ')}` };
  }
  return { ports: fit };
}

/** Groups candidates by Service port; GRPCRoutes push HTTPRoutes off a port they share. */
function resolveConflicts(candidates: readonly Candidate[]): Map<string, Map<string, Attachment[]>> {
  const byPort = new Map<string, { port: MeshedPort; serviceKey: string; candidates: Candidate[] }>();
  for (const candidate of candidates) {
    for (const port of candidate.ports) {
      const id = `${candidate.serviceKey}:${port.port}/${port.protocol}`;
      const entry = byPort.get(id) ?? { port, serviceKey: candidate.serviceKey, candidates: [] };
      entry.candidates.push(candidate);
      byPort.set(id, entry);
    }
  }
  const byService = new Map<string, Map<string, Attachment[]>>();
  const lost = new Map<Candidate, number[]>();
  for (const { port, serviceKey, candidates: here } of byPort.values()) {
    const grpc = here.some((c) => c.outcome.route.kind === 'GRPCRoute');
    const attached: Attachment[] = [];
    for (const candidate of here) {
      if (grpc && candidate.outcome.route.kind === 'HTTPRoute') {
        lost.set(candidate, [...(lost.get(candidate) ?? []), port.port]);
        continue;
      }
      candidate.outcome.ports.push(port.port);
      const { route, parentNamespace } = candidate.outcome;
      attached.push({ route, consumer: route.namespace === parentNamespace ? null : route.namespace });
    }
    const ports = byService.get(serviceKey) ?? new Map<string, Attachment[]>();
    ports.set(`${port.port}/${port.protocol}`, attached);
    byService.set(serviceKey, ports);
  }
  for (const [candidate, ports] of lost) {
    const { outcome } = candidate;
    if (outcome.ports.length === 0) {
      outcome.reason = 'Conflicted';
      outcome.message = `a GRPCRoute is attached to the same port (${ports.join(', ')}); only one route kind applies per Service port`;
    } else {
      outcome.message = `not applied on port ${ports.join(', ')}: a GRPCRoute is attached there`;
    }
  }
  for (const ports of byService.values()) for (const list of ports.values()) list.sort((a, b) => olderFirst(a.route, b.route));
  return byService;
}

/** Gateway API tie-break: oldest first (no timestamp = newest), then namespace/name. */
export function olderFirst(a: GatewayRoute, b: GatewayRoute): number {
  if (a.creationTimestamp !== b.creationTimestamp) {
    if (!a.creationTimestamp) return 1;
    if (!b.creationTimestamp) return -1;
    return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  }
  const ka = objectKey(a.namespace, a.name);
  const kb = objectKey(b.namespace, b.name);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
