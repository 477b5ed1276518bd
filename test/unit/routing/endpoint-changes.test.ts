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
import { namespace, service, slice, trafficSplit } from './builders.js';
import { Cluster, locate } from './random-cluster.js';
import { seededRandom } from '../../helpers/prng.js';

const RUNS = 12;
const STEPS = 25;

const OPTIONS: CompileOptions = { nodeName: 'node-a', meshDomain: 'plexus', listenerPorts: { min: 20000, max: 20100 }, vipCidr: '127.77.0.0/24' };

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

  it('reads only the objects a snapshot says changed, and gives a fresh compile\'s config', () => {
    const cluster = new Cluster(seededRandom(77));
    for (let run = 0; run < RUNS; run++) {
      const compiler = new Compiler();
      let objects = cluster.objects();
      let version = {};
      let before = locate(objects);
      let previous: MeshConfig = compiler.compile({ objects, sources: before, version }, OPTIONS);
      for (let step = 0; step < STEPS; step++) {
        const earlier = new Set(objects);
        objects = [...objects];
        for (let n = 1 + cluster.int(3); n > 0; n--) cluster.replace(objects);
        // Now and then an object more or one less (a pure addition or removal is read whole).
        if (cluster.chance(0.1)) objects.push(cluster.slice(cluster.int(6), 2));
        if (cluster.chance(0.1)) objects.splice(cluster.int(objects.length), 1);
        const kept = new Set(objects);
        const sources = locate(objects);
        const moved = (o: RawObject) => earlier.has(o) && kept.has(o) && sources.get(o) !== before.get(o);
        const changes = {
          since: cluster.chance(0.05) ? {} : version,
          removed: [...earlier].filter((o) => !kept.has(o) || moved(o)),
          added: objects.filter((o) => !earlier.has(o) || moved(o)),
        };
        version = {};
        const options = { ...OPTIONS, previous: previous.allocation };
        const remembered = compiler.compile({ objects, sources, version, changes }, options);
        before = sources;
        expect(remembered, `run ${run} step ${step}`).to.deep.equal(compile({ objects, sources }, options));
        previous = remembered;
      }
    }
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
