import { expect } from 'chai';
import { Compiler, compile } from '../../../src/routing/compile.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { OPTIONS, pod, service, slice, trafficSplit, trafficTarget } from './builders.js';

function cluster(): RawObject[] {
  return [
    service('a'), slice('a', [{ ip: '10.0.0.1', pod: 'a-1' }]), pod('a-1', { ip: '10.0.0.1', serviceAccount: 'a' }),
    service('b'), slice('b', [{ ip: '10.0.0.2' }]),
    service('c'), slice('c', [{ ip: '10.0.0.3' }]),
    service('c-v2', { annotations: {} }), slice('c-v2', [{ ip: '10.0.0.4' }]),
    trafficSplit('c-split', 'c', [{ service: 'c-v2', weight: 1 }]),
    trafficTarget('to-a', 'a', ['b'], []),
  ];
}

describe('routing: the remembering Compiler', () => {
  it('reuses the MeshServices nothing changed for, and rebuilds the one whose slice changed', () => {
    const compiler = new Compiler();
    const objects = cluster();
    const first = compiler.compile({ objects }, OPTIONS);
    objects[4] = slice('b', [{ ip: '10.0.0.2' }, { ip: '10.0.0.22' }]);
    const second = compiler.compile({ objects }, { ...OPTIONS, previous: first.allocation });
    const byKey = (config: typeof first, key: string) => config.services.find((s) => s.key === key);
    expect(byKey(second, 'shop/a')).to.equal(byKey(first, 'shop/a'));
    expect(byKey(second, 'shop/c')).to.equal(byKey(first, 'shop/c'));
    expect(byKey(second, 'shop/b')).not.to.equal(byKey(first, 'shop/b'));
    expect(second).to.deep.equal(compile({ objects }, { ...OPTIONS, previous: first.allocation }));
  });

  it('rebuilds a split root when a backend\'s endpoints change', () => {
    const compiler = new Compiler();
    const objects = cluster();
    const first = compiler.compile({ objects }, OPTIONS);
    objects[8] = slice('c-v2', [{ ip: '10.0.0.44' }]);
    const second = compiler.compile({ objects }, { ...OPTIONS, previous: first.allocation });
    const destination = second.services.find((s) => s.key === 'shop/c')!.ports[0]!.destination;
    expect(destination.kind === 'backends' && destination.backends[0]!.endpoints.map((e) => e.ip)).to.deep.equal(['10.0.0.44']);
  });

  it('follows Pod changes into endpoint ServiceAccounts and identities', () => {
    const compiler = new Compiler();
    const objects = cluster();
    const first = compiler.compile({ objects }, OPTIONS);
    objects[2] = pod('a-1', { ip: '10.0.0.1', serviceAccount: 'renamed' });
    const second = compiler.compile({ objects }, { ...OPTIONS, previous: first.allocation });
    expect(second.identities.map((i) => i.serviceAccount)).to.deep.equal(['renamed']);
    const a = second.services.find((s) => s.key === 'shop/a')!.ports[0]!;
    expect(a.access).to.deep.equal([]);
    expect(second).to.deep.equal(compile({ objects }, { ...OPTIONS, previous: first.allocation }));
  });

  it('follows objects replaced in place that move to another Service or key', () => {
    const compiler = new Compiler();
    const objects = cluster();
    let previous = compiler.compile({ objects }, OPTIONS);
    const recompile = () => {
      const options = { ...OPTIONS, previous: previous.allocation };
      previous = compiler.compile({ objects }, options);
      expect(previous).to.deep.equal(compile({ objects }, options));
      return previous;
    };
    // b's slice now labelled for a: a has two slices, b none.
    objects[4] = slice('a', [{ ip: '10.0.0.2' }], { name: 'b-abc' });
    const moved = recompile().services.find((s) => s.key === 'shop/a')!.ports[0]!.destination;
    expect(moved.kind === 'backends' && moved.backends[0]!.endpoints.map((e) => e.ip)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    // The split now splits b instead of c; then a Service renamed at the same position.
    objects[9] = trafficSplit('c-split', 'b', [{ service: 'c-v2', weight: 1 }]);
    recompile();
    objects[5] = service('d');
    expect(recompile().services.map((s) => s.key)).to.include('shop/d').and.not.include('shop/c');
  });

  it('never changes a compiled config afterwards', () => {
    const compiler = new Compiler();
    const objects = cluster();
    const first = compiler.compile({ objects }, OPTIONS);
    const snapshot = JSON.stringify(first);
    objects.splice(3, 2);
    compiler.compile({ objects }, { ...OPTIONS, previous: first.allocation });
    expect(JSON.stringify(first)).to.equal(snapshot);
  });
});
