/**
 * Applying a config change incrementally (the runtime patched with the diff of the two configs,
 * the listener manager updated with the specs of the changed Services) must leave exactly what a
 * build from scratch and a reconcile of the whole plan leave: random sequences of compiled
 * configs, endpoint changes mostly, Services leaving and joining the mesh, binds that fail.
 */
import { expect } from 'chai';
import { ListenerManager } from '../../../src/node-agent/listeners/listener-manager.js';
import type { RunningListener } from '../../../src/node-agent/listeners/listener.js';
import { planChange, planListeners, type ListenerSpec } from '../../../src/node-agent/listeners/plan.js';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import type { MeshRuntime, PortRuntime, RuntimePorts } from '../../../src/node-agent/runtime/types.js';
import { diffServices } from '../../../src/routing/config-diff.js';
import { Compiler } from '../../../src/routing/compile.js';
import type { CompileOptions } from '../../../src/routing/compile-options.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import { seededRandom } from '../../helpers/prng.js';
import { Cluster, locate } from '../routing/random-cluster.js';

const RUNS = 6;
const STEPS = 25;
const OPTIONS: CompileOptions = { nodeName: 'node-a', meshDomain: 'plexus', listenerPorts: null, vipCidr: '127.77.0.0/24', deriveEndpointsFromPods: true };

/** A listener that binds unless its id is in `failing` at the time. */
class FakeListener implements RunningListener {
  readonly active = 0;
  constructor(readonly spec: ListenerSpec, private readonly failing: ReadonlySet<string>) {}
  async listen(): Promise<void> {
    if (this.failing.has(this.spec.id)) throw Object.assign(new Error('address in use'), { code: 'EADDRINUSE' });
  }
  async close(): Promise<void> {}
  closeAfterExchange(): void {}
}

/** What a manager runs: id, kind and port of each listener, sorted. */
function running(manager: ListenerManager): string[] {
  return manager.listeners.map((l) => `${l.spec.id} ${l.spec.kind} ${l.spec.portKey}`).sort();
}

/** What a runtime serves: each port's Service and port config. */
function served(runtime: MeshRuntime): [string, unknown][] {
  return [...runtime.ports.keys()].sort().map((key) => {
    const port = runtime.ports.get(key) as PortRuntime;
    return [key, { service: port.service, port: port.port }];
  });
}

describe('node agent: incremental apply', () => {
  it(`leaves the runtime and listeners a build from scratch leaves, over ${RUNS} random sequences of ${STEPS} configs`, async () => {
    const cluster = new Cluster(seededRandom(20261207));
    let updates = 0;
    for (let run = 0; run < RUNS; run++) {
      const compiler = new Compiler();
      const objects = cluster.objects();
      const failing = new Set<string>();
      let incremental: MeshRuntime | undefined;
      let scratch: MeshRuntime | undefined;
      const ports = (): RuntimePorts => incremental?.ports ?? new Map<string, PortRuntime>();
      const a = new ListenerManager((spec) => new FakeListener(spec, failing), ports, 0);
      const b = new ListenerManager((spec) => new FakeListener(spec, failing), () => scratch?.ports ?? new Map<string, PortRuntime>(), 0);
      let previous: MeshConfig | null = null;
      for (let step = 0; step < STEPS; step++) {
        if (step > 0) for (let n = 1 + cluster.int(3); n > 0; n--) cluster.replace(objects);
        const config = compiler.compile({ objects: [...objects], sources: locate(objects) }, { ...OPTIONS, ...(previous ? { previous: previous.allocation } : {}) });
        // A bind fails now and then (and works again later): the manager must then reconcile the whole plan.
        failing.clear();
        if (cluster.chance(0.15) && config.services.length > 0) failing.add(`${config.services[cluster.int(config.services.length)]!.vip}:80/TCP`);

        incremental = buildRuntime(config, { acl: false }, incremental);
        scratch = buildRuntime(config, { acl: false });
        const where = `run ${run} step ${step}`;
        expect(served(incremental), where).to.deep.equal(served(scratch));
        // Some ports see traffic: their Services get built, and later builds must carry them.
        for (const key of [...incremental.ports.keys()].filter(() => cluster.chance(0.3))) incremental.ports.get(key);

        const updated = previous === null ? null : await a.update(planChange(diffServices(previous.services, config.services), 'local', '127.0.0.1'));
        if (updated !== null) updates++;
        const resultA = updated ?? await a.reconcile(planListeners(config, 'local', '127.0.0.1'));
        const resultB = await b.reconcile(planListeners(config, 'local', '127.0.0.1'));
        expect(running(a), where).to.deep.equal(running(b));
        expect(a.problems.map((p) => p.message).sort(), where).to.deep.equal(b.problems.map((p) => p.message).sort());
        expect([...a.kinds].sort(), where).to.deep.equal([...b.kinds].sort());
        expect(resultA.keptCount, where).to.equal(resultA.kept.length);
        if (updated === null) expect(resultA, where).to.deep.include({ added: resultB.added, removed: resultB.removed, replaced: resultB.replaced, kept: resultB.kept });
        previous = config;
      }
    }
    // The incremental path was taken most of the time, not only the fallback.
    expect(updates).to.be.greaterThan(RUNS * STEPS / 2);
  });
});
