/** The leader's route status plan: our entries replaced, other controllers' kept, no write when nothing changed. */
import { expect } from 'chai';
import { planRouteStatus } from '../../../src/cluster/route-status.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { compileObjects, service, slice } from '../routing/builders.js';
import { backendRef, route } from './builders.js';

const NOW = '2026-12-07T12:00:00Z';

function served(raw: RawObject, status: unknown, resourceVersion = '7', generation = 3): RawObject {
  const metadata = raw['metadata'] as Record<string, unknown>;
  return { ...raw, metadata: { ...metadata, resourceVersion, generation }, ...(status === undefined ? {} : { status }) };
}

describe('gateway: route status written by the leader', () => {
  const objects = [service('web'), service('web-v1', { annotations: {} }), slice('web-v1', [{ ip: '10.0.0.1' }])];
  const gatewayEntry = { parentRef: { name: 'gw' }, controllerName: 'example.com/gateway', conditions: [] };

  it('writes Accepted and ResolvedRefs with observedGeneration, keeping other controllers\' entries', () => {
    const raw = served(route('r', { generation: 3, rules: [{ backendRefs: [backendRef('web-v1', 80)] }] }), { parents: [gatewayEntry] });
    const config = compileObjects([...objects, raw]);
    const [write, ...more] = planRouteStatus(config, [raw], NOW);
    expect(more).to.deep.equal([]);
    expect(write?.path).to.equal('/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/r/status');
    expect(write?.resourceVersion).to.equal('7');
    expect(write?.parents[0]).to.deep.equal(gatewayEntry);
    expect(write?.parents[1]).to.deep.include({ controllerName: 'plexus.dev/mesh', parentRef: { group: '', kind: 'Service', namespace: 'shop', name: 'web', port: 80 } });
    expect(write?.parents[1]?.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration, c.lastTransitionTime])).to.deep.equal([
      ['Accepted', 'True', 'Accepted', 3, NOW], ['ResolvedRefs', 'True', 'ResolvedRefs', 3, NOW],
    ]);
  });

  it('writes nothing when the status already says it, and keeps transition times of unchanged conditions', () => {
    const first = route('r', { generation: 3, rules: [{ backendRefs: [backendRef('web-v1', 80)] }] });
    const config = compileObjects([...objects, served(first, undefined)]);
    const written = planRouteStatus(config, [served(first, undefined)], '2026-01-01T00:00:00Z')[0]!;
    const now = served(first, { parents: written.parents });
    expect(planRouteStatus(config, [now], NOW)).to.deep.equal([]);
    // A new generation with a missing backend: Accepted keeps its time, ResolvedRefs moves.
    const changed = served(route('r', { generation: 4, rules: [{ backendRefs: [backendRef('gone', 80)] }] }), { parents: written.parents }, '8', 4);
    const next = planRouteStatus(compileObjects([...objects, changed]), [changed], NOW)[0]!;
    expect(next.parents[0]?.conditions.map((c) => [c.type, c.status, c.observedGeneration, c.lastTransitionTime])).to.deep.equal([
      ['Accepted', 'True', 4, '2026-01-01T00:00:00Z'], ['ResolvedRefs', 'False', 4, NOW],
    ]);
  });

  it('removes its entries from a route that no longer names a Service parent', () => {
    const raw = served(route('r', { parentRefs: [{ name: 'gw' }] }), { parents: [gatewayEntry, { parentRef: { kind: 'Service', name: 'web' }, controllerName: 'plexus.dev/mesh', conditions: [] }] });
    const [write] = planRouteStatus(compileObjects([...objects, raw]), [raw], NOW);
    expect(write?.parents).to.deep.equal([gatewayEntry]);
  });
});
