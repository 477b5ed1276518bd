import { expect } from 'chai';
import { compile } from '../../../src/routing/compile.js';
import type { SourceLocation } from '../../../src/model/problem.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { compileObjects, findService, OPTIONS, service } from './builders.js';

describe('routing: reading raw objects', () => {
  it('ignores objects of kinds it does not use, silently', () => {
    const config = compileObjects([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } },
      { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'knative' }, spec: 42 },
      { apiVersion: 'v1', kind: 'ConfigMap' },
      { nothing: true },
    ]);
    expect(config.services).to.deep.equal([]);
    expect(config.problems).to.deep.equal([]);
  });

  it('reports malformed Services with their location and compiles the others', () => {
    const broken: RawObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'broken', namespace: 'shop', annotations: { 'plexus.dev/mesh': 'true' } }, spec: { ports: 'eighty' } };
    const source: SourceLocation = { file: 'shop.yaml', line: 12 };
    const config = compile({ objects: [broken, service('web')], sources: new Map([[broken, source]]) }, OPTIONS);
    expect(findService(config, 'shop/web').ports).to.have.length(1);
    expect(config.problems).to.deep.include({ kind: 'Service', namespace: 'shop', name: 'broken', message: 'spec.ports is not a list', severity: 'error', source });
  });

  it('reports each bad port and keeps the good ones', () => {
    const config = compileObjects([service('web', {
      ports: [
        { name: 'http', port: 80 },
        { name: 'zero', port: 0 },
        { name: 'proto', port: 81, protocol: 'ICMP' },
        { name: 'target', port: 82, targetPort: -1 },
        { name: 'again', port: 80 },
      ],
    })]);
    expect(findService(config, 'shop/web').ports.map((p) => p.port)).to.deep.equal([80]);
    expect(config.problems.map((p) => p.message)).to.deep.equal([
      'spec.ports[1].port: 0 is not a port number 1..65535',
      'spec.ports[2].protocol: "ICMP" is not TCP, UDP or SCTP',
      'spec.ports[3].targetPort: -1 is neither a port number nor a port name',
      'spec.ports[4]: port 80/TCP is listed twice',
    ]);
  });

  it('names an object without metadata "(unnamed)" in the default namespace', () => {
    const config = compileObjects([{ apiVersion: 'v1', kind: 'Service', spec: { ports: [{}] } }]);
    expect(config.problems.map((p) => [p.kind, p.namespace, p.name])).to.deep.equal([['Service', 'default', '(unnamed)']]);
  });

  it('reports duplicates and uses the later definition', () => {
    const first = service('web');
    const second = service('web', { ports: [{ name: 'http', port: 8080 }] });
    const config = compile({ objects: [first, second], sources: new Map([[first, { file: 'a.yaml', line: 1 }], [second, { file: 'b.yaml', line: 3 }]]) }, OPTIONS);
    expect(findService(config, 'shop/web').ports.map((p) => p.port)).to.deep.equal([8080]);
    expect(config.problems).to.deep.equal([{
      kind: 'Service', namespace: 'shop', name: 'web', severity: 'warning',
      message: 'defined more than once (also at a.yaml:1); the later definition is used',
      source: { file: 'b.yaml', line: 3 },
    }]);
  });

  it('passes SMI problems through with their location', () => {
    const split: RawObject = { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 's', namespace: 'shop' }, spec: { service: 'web', backends: [{ service: 'v1', weight: -1 }] } };
    const config = compile({ objects: [split], sources: new Map([[split, { file: 's.yaml', line: 2 }]]) }, OPTIONS);
    expect(config.problems).to.have.length.greaterThan(0);
    for (const p of config.problems) expect([p.kind, p.name, p.source]).to.deep.equal(['TrafficSplit', 's', { file: 's.yaml', line: 2 }]);
  });

  it('sorts services, ports and problems', () => {
    const config = compileObjects([
      service('b', { namespace: 'x', ports: [{ name: 'z', port: 90 }, { name: 'a', port: 9 }] }),
      service('a', { namespace: 'y' }),
      service('a', { namespace: 'x' }),
      service('c', { namespace: 'x', annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/timeout': 'x' } }),
      service('b', { namespace: 'a', annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/timeout': 'x' } }),
    ]);
    expect(config.services.map((s) => s.key)).to.deep.equal(['x/a', 'x/b', 'x/c', 'y/a', 'a/b'].sort((p, q) => (p < q ? -1 : 1)));
    expect(findService(config, 'x/b').ports.map((p) => p.port)).to.deep.equal([9, 90]);
    expect(config.problems.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['a/b', 'x/c']);
  });
});
