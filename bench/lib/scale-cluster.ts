/**
 * The synthetic cluster of the scale suite (pure): N meshed Services in 20 namespaces, each with
 * 10 endpoints in two EndpointSlices, and N/10 TrafficSplits (1,000 at 10,000 Services), each
 * over two other Services of its namespace. Services carry no selector: endpoints come from the
 * slices, as in a cluster.
 */
import { endpointSlice, namespace, service, trafficSplit, type Manifest } from './manifests.js';

export const NAMESPACES = 20;
export const ENDPOINTS_PER_SERVICE = 10;
const SLICES_PER_SERVICE = 2;
export const SERVICE_PORT = 8080;
const TARGET_PORT = 9000;
/** Services per manifest file. */
export const SERVICES_PER_FILE = 100;

export function namespaceOf(i: number): string {
  return `ns-${i % NAMESPACES}`;
}

export function splitCount(services: number): number {
  return Math.floor(services / 10);
}

/** Endpoint addresses of slice `part` of Service `i`; `generation` moves the last one. */
export function sliceAddresses(i: number, part: number, generation = 0): string[] {
  const perSlice = ENDPOINTS_PER_SERVICE / SLICES_PER_SERVICE;
  return Array.from({ length: perSlice }, (_, e) => {
    const n = i * ENDPOINTS_PER_SERVICE + part * perSlice + e + (e === perSlice - 1 ? generation * 7919 : 0);
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  });
}

/** Service `i` and its EndpointSlices. */
export function serviceObjects(i: number, generation = 0): Manifest[] {
  const ns = namespaceOf(i);
  const name = `svc-${i}`;
  const objects: Manifest[] = [service(ns, name, { port: SERVICE_PORT, targetPort: TARGET_PORT })];
  for (let part = 0; part < SLICES_PER_SERVICE; part++) {
    objects.push(endpointSlice(ns, name, `${name}-${part}`, TARGET_PORT, sliceAddresses(i, part, part === 0 ? generation : 0)));
  }
  return objects;
}

export function namespaceObjects(): Manifest[] {
  return Array.from({ length: NAMESPACES }, (_, n) => namespace(`ns-${n}`));
}

/** Split `k`: root svc-(10k) over two Services further along in the same namespace (90/10). */
export function splitObjects(services: number): Manifest[] {
  const splits: Manifest[] = [];
  for (let k = 0; k < splitCount(services); k++) {
    const root = k * 10;
    const a = (root + NAMESPACES) % services;
    const b = (root + 2 * NAMESPACES) % services;
    splits.push(trafficSplit(namespaceOf(root), `split-${root}`, `svc-${root}`, [{ service: `svc-${a}`, weight: 90 }, { service: `svc-${b}`, weight: 10 }]));
  }
  return splits;
}

/** Services of manifest file `f`: [first, end). */
export function fileRange(file: number, services: number): [number, number] {
  return [file * SERVICES_PER_FILE, Math.min(services, (file + 1) * SERVICES_PER_FILE)];
}
