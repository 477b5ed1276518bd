/**
 * A small random cluster for the tests of incremental work (compile, runtime, listeners): meshed
 * Services with EndpointSlices (the last two with legacy Endpoints), TrafficSplits over them,
 * access rules and Pods; `replace` swaps objects in place as a provider does, mostly endpoint
 * objects, now and then a Service or a Pod (which compile everything).
 */
import type { RawObject } from '../../../src/model/snapshot.js';
import type { SourceLocation } from '../../../src/model/problem.js';
import { namespace, pod, routeGroup, service, slice, trafficSplit, trafficTarget, tcpRoute } from './builders.js';

const SERVICES = 8;

export class Cluster {
  constructor(private readonly random: () => number) {}

  int(n: number): number { return Math.floor(this.random() * n); }
  chance(p: number): boolean { return this.random() < p; }

  endpoints(): { ip: string; ready: boolean; pod?: string; nodeName?: string }[] {
    return Array.from({ length: this.int(4) }, () => ({
      ip: `10.0.${this.int(2)}.${this.int(6)}`,
      ready: this.chance(0.8),
      ...(this.chance(0.6) ? { pod: `pod-${this.int(6)}` } : {}),
      ...(this.chance(0.5) ? { nodeName: this.chance(0.5) ? 'node-a' : 'node-b' } : {}),
    }));
  }

  slice(i: number, part: number): RawObject {
    // Now and then a port the Service does not have, or an address that is not valid: problems.
    const ports = this.chance(0.1) ? [{ name: 'other', port: 9999 }] : [{ name: 'http', port: 8080 }, { name: 'pg', port: 5432 }];
    const endpoints = this.chance(0.05) ? [{ ip: 'not-an-ip' }] : this.endpoints();
    return slice(`svc-${i}`, endpoints, { name: `svc-${i}-${part}`, ports });
  }

  legacy(i: number): RawObject {
    const ip = `10.0.3.${this.int(6)}`;
    return {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: `svc-${i}`, namespace: 'shop' },
      subsets: [{ addresses: this.chance(0.7) ? [{ ip }] : [], notReadyAddresses: this.chance(0.3) ? [{ ip: `10.0.4.${this.int(6)}` }] : [], ports: [{ name: 'http', port: 8080 }] }],
    };
  }

  service(i: number): RawObject {
    const annotations: Record<string, string> = this.chance(0.2) ? { 'plexus.dev/retry-attempts': String(this.int(4)) } : {};
    // Sometimes opted out: the Service leaves the mesh (and comes back with a later replacement).
    if (this.chance(0.15)) annotations['plexus.dev/mesh'] = 'false';
    return service(`svc-${i}`, { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'pg', port: 5432 }], annotations });
  }

  /** A cluster: Services with two slices each (the last ones legacy Endpoints), splits, access rules, pods. */
  objects(): RawObject[] {
    const objects: RawObject[] = [namespace('shop', { 'plexus.dev/mesh': 'true' })];
    for (let i = 0; i < SERVICES; i++) {
      objects.push(this.service(i));
      if (i >= SERVICES - 2) objects.push(this.legacy(i));
      else objects.push(this.slice(i, 0), this.slice(i, 1));
    }
    for (let k = 0; k < 3; k++) {
      objects.push(trafficSplit(`split-${k}`, `svc-${k}`, [{ service: `svc-${(k + 3) % SERVICES}`, weight: 90 }, { service: `svc-${(k + 5) % SERVICES}`, weight: 10 }],
        k === 2 ? { matches: ['routes'] } : {}));
    }
    objects.push(routeGroup('routes', [{ name: 'read', pathRegex: '/api', methods: ['GET'] }]));
    objects.push(tcpRoute('all'), trafficTarget('tt', 'sa-0', ['sa-1'], [{ kind: 'TCPRoute', name: 'all' }]));
    for (let p = 0; p < 6; p++) objects.push(pod(`pod-${p}`, { ip: `10.0.0.${p}`, serviceAccount: `sa-${p % 2}`, nodeName: p % 2 ? 'node-a' : 'node-b', labels: { app: `svc-${p}` } }));
    return objects;
  }

  /** The same object position replaced: mostly an endpoint object, sometimes a Service or a split. */
  replace(objects: RawObject[]): void {
    const at = this.int(objects.length);
    const old = objects[at]!;
    const name = (old.metadata as { name: string }).name;
    const i = Number(/^svc-(\d+)/.exec(name)?.[1] ?? -1);
    if (old.kind === 'EndpointSlice') objects[at] = this.slice(i, Number(name.slice(name.lastIndexOf('-') + 1)));
    else if (old.kind === 'Endpoints') objects[at] = this.legacy(i);
    else if (old.kind === 'Service' && this.chance(0.3)) objects[at] = this.service(i);
    else if (old.kind === 'Pod' && this.chance(0.2)) objects[at] = pod(name, { ip: `10.0.0.${this.int(6)}`, serviceAccount: 'sa-1', labels: { app: `svc-${this.int(SERVICES)}` } });
  }
}

/** Where each object is (its position); an object keeps its location object, as the file provider does. */
const located = new WeakMap<RawObject, SourceLocation>();

export function locate(objects: readonly RawObject[]): Map<RawObject, SourceLocation> {
  return new Map(objects.map((o, i) => {
    let source = located.get(o);
    if (source === undefined || source.line !== i + 1) located.set(o, source = { file: 'cluster.yaml', line: i + 1 });
    return [o, source];
  }));
}

