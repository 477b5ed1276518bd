/**
 * Endpoint resolution: the endpoints of each port of a Service, from its EndpointSlices, else
 * its legacy Endpoints, else (local mode, `deriveEndpointsFromPods`) the Pods its selector
 * matches. Endpoints whose Pod is known (by targetRef, else by IP) carry its ServiceAccount.
 */
import { fitted } from '../model/fitted.js';
import type { Endpoint } from './mesh-config.js';
import type { Catalog } from './catalog.js';
import type { EndpointAddress, EndpointGroup, PodInfo, ServiceInfo, ServicePortInfo } from './kube/types.js';
import { compareAddresses } from './ip-order.js';
import type { PodIndex } from './pod-index.js';

/** The endpoint lists of a Service, by `servicePortId()`. */
export type ServiceEndpoints = ReadonlyMap<string, readonly Endpoint[]>;

export function servicePortId(port: { readonly port: number; readonly protocol: string }): string {
  return `${port.port}/${port.protocol}`;
}

/** What a Service's endpoints are computed from; unchanged sources give unchanged endpoints. */
export function endpointSources(service: ServiceInfo, catalog: Catalog, deriveFromPods: boolean): readonly object[] | null {
  const slices = catalog.slicesByService.get(service.key);
  if (slices) return slices;
  const endpoints = catalog.endpointsByService.get(service.key);
  if (endpoints) return [endpoints];
  return deriveFromPods && service.selector ? [] : null;
}

export function resolveEndpoints(service: ServiceInfo, catalog: Catalog, pods: PodIndex, deriveFromPods: boolean): ServiceEndpoints {
  const slices = catalog.slicesByService.get(service.key);
  const legacy = catalog.endpointsByService.get(service.key);
  const groups: readonly EndpointGroup[] | null = slices
    ? slices.flatMap((s) => s.groups)
    : legacy?.groups ?? null;
  const result = new Map<string, readonly Endpoint[]>();
  for (const port of service.ports) {
    const endpoints = groups
      ? fromGroups(port, groups, pods)
      : deriveFromPods && service.selector ? fromPods(service, port, pods) : [];
    result.set(servicePortId(port), sortEndpoints(endpoints));
  }
  return result;
}

function fromGroups(port: ServicePortInfo, groups: readonly EndpointGroup[], pods: PodIndex): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const group of groups) {
    const target = group.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!target) continue;
    for (const address of group.addresses) endpoints.push(toEndpoint(address, target.port, pods));
  }
  return endpoints;
}

/** The address itself when it is already this port's endpoint and no known Pod adds to it. */
function toEndpoint(address: EndpointAddress, port: number, pods: PodIndex): Endpoint {
  const pod = address.pod ? pods.byKey.get(address.pod) : pods.byIp.get(address.ip);
  if (pod === undefined && port === address.port) return address;
  return {
    ip: address.ip,
    port,
    ready: address.ready,
    serving: address.serving,
    terminating: address.terminating,
    nodeName: address.nodeName ?? pod?.nodeName ?? null,
    pod: address.pod ?? pod?.key ?? null,
    serviceAccount: pod?.serviceAccount ?? null,
  };
}

function selects(selector: Readonly<Record<string, string>>, pod: PodInfo): boolean {
  for (const [key, value] of Object.entries(selector)) if (pod.id.labels[key] !== value) return false;
  return true;
}

/** The pod port a Service port targets: a number, a named container port, or the port itself. */
function targetPortOf(port: ServicePortInfo, pod: PodInfo): number | null {
  if (typeof port.targetPort === 'number') return port.targetPort;
  if (port.targetPort === null) return port.port;
  const named = pod.containerPorts.find((p) => p.name === port.targetPort && p.protocol === port.protocol);
  return named?.port ?? null;
}

function fromPods(service: ServiceInfo, port: ServicePortInfo, pods: PodIndex): Endpoint[] {
  const selector = service.selector;
  if (!selector) return [];
  const endpoints: Endpoint[] = [];
  for (const pod of pods.byNamespace.get(service.id.namespace) ?? []) {
    const ip = pod.ips[0];
    if (!ip || !pod.running || !selects(selector, pod)) continue;
    const target = targetPortOf(port, pod);
    if (target === null) continue;
    const ready = pod.ready && !pod.terminating;
    endpoints.push({
      ip, port: target, ready, serving: pod.ready, terminating: pod.terminating,
      nodeName: pod.nodeName, pod: pod.key, serviceAccount: pod.serviceAccount,
    });
  }
  return endpoints;
}

/** Sorted by ip:port (IPv4 numerically); one endpoint per ip:port, a ready one preferred. */
function sortEndpoints(endpoints: Endpoint[]): readonly Endpoint[] {
  if (endpoints.length === 0) return EMPTY;
  endpoints.sort((a, b) => compareAddresses(a.ip, a.port, b.ip, b.port) || Number(b.ready) - Number(a.ready));
  const repeated = (e: Endpoint, i: number) => i > 0 && e.ip === endpoints[i - 1]!.ip && e.port === endpoints[i - 1]!.port;
  return endpoints.some(repeated) ? endpoints.filter((e, i) => !repeated(e, i)) : fitted(endpoints);
}

const EMPTY: readonly Endpoint[] = [];
