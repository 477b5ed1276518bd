/**
 * The scoped compile: when only EndpointSlices or Endpoints objects are replaced, a remembering
 * Compiler assembles only their Services (and the split roots sending to them). Random sequences
 * of such changes, with now and then another kind of change that compiles everything, must give
 * exactly what a fresh compile of the same snapshot gives, step after step.
 */
import { expect } from 'chai';
import { Compiler, compile } from '../../../src/routing/compile.js';
import type { CompileOptions } from '../../../src/routing/compile-options.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import type { SourceLocation } from '../../../src/model/problem.js';
import { namespace, pod, routeGroup, service, slice, trafficSplit, trafficTarget, tcpRoute } from './builders.js';
import { seededRandom } from '../../helpers/prng.js';

const SERVICES = 8;
const RUNS = 12;
const STEPS = 25;

class Cluster {
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

const OPTIONS: CompileOptions = { nodeName: 'node-a', meshDomain: 'plexus', listenerPorts: { min: 20000, max: 20100 }, vipCidr: '127.77.0.0/24' };

/** Where each object is (its position); an object keeps its location object, as the file provider does. */
const located = new WeakMap<RawObject, SourceLocation>();

function locate(objects: readonly RawObject[]): Map<RawObject, SourceLocation> {
  return new Map(objects.map((o, i) => {
    let source = located.get(o);
    if (source === undefined || source.line !== i + 1) located.set(o, source = { file: 'cluster.yaml', line: i + 1 });
    return [o, source];
  }));
}

describe('routing: endpoint changes compiled in scope', () => {
  it(`gives exactly a fresh compile's config over ${RUNS} random sequences of ${STEPS} changes`, () => {
    const cluster = new Cluster(seededRandom(2026_12_07));
    let sharedServices = 0;
    for (let run = 0; run < RUNS; run++) {
      const compiler = new Compiler();
      const objects = cluster.objects();
      const derive = run % 2 === 1;
      let previous: MeshConfig = compiler.compile({ objects, sources: locate(objects) }, { ...OPTIONS, deriveEndpointsFromPods: derive });
      for (let step = 0; step < STEPS; step++) {
        for (let n = 1 + cluster.int(3); n > 0; n--) cluster.replace(objects);
        const options = { ...OPTIONS, previous: previous.allocation, deriveEndpointsFromPods: derive };
        const sources = locate(objects);
        const remembered = compiler.compile({ objects: [...objects], sources }, options);
        expect(remembered, `run ${run} step ${step}`).to.deep.equal(compile({ objects: [...objects], sources }, options));
        sharedServices += remembered.services.filter((s) => previous.services.includes(s)).length;
        previous = remembered;
      }
    }
    // Unchanged Services stay the same objects (what the runtime and listeners rely on).
    expect(sharedServices).to.be.greaterThan(RUNS * STEPS * 3);
  });

  it('assembles a split root again when one of its backends changes, and leaves the other Services as they were', () => {
    const objects: RawObject[] = [
      namespace('shop', { 'plexus.dev/mesh': 'true' }),
      service('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      service('web-v2', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      service('db', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      slice('web-v2', [{ ip: '10.0.0.1' }], { name: 'web-v2-a' }),
      slice('db', [{ ip: '10.0.0.9' }], { name: 'db-a' }),
      trafficSplit('web-split', 'web', [{ service: 'web-v2', weight: 100 }]),
    ];
    const compiler = new Compiler();
    const first = compiler.compile({ objects }, OPTIONS);
    objects[4] = slice('web-v2', [{ ip: '10.0.0.2' }], { name: 'web-v2-a' });
    const second = compiler.compile({ objects }, { ...OPTIONS, previous: first.allocation });
    expect(second).to.deep.equal(compile({ objects }, { ...OPTIONS, previous: first.allocation }));
    const byKey = (config: MeshConfig, key: string) => config.services.find((s) => s.key === key);
    expect(byKey(second, 'shop/web')).not.to.equal(byKey(first, 'shop/web'));
    expect(byKey(second, 'shop/web-v2')).not.to.equal(byKey(first, 'shop/web-v2'));
    expect(byKey(second, 'shop/db')).to.equal(byKey(first, 'shop/db'));
    const web = byKey(second, 'shop/web')!.ports[0]!.destination;
    expect(web.kind === 'backends' && web.backends[0]!.endpoints.map((e) => e.ip)).to.deep.equal(['10.0.0.2']);
  });
});
