import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import { LazyPorts, type BuiltService, type ServiceRecord } from '../../../src/node-agent/runtime/lazy-ports.js';
import type { PortRuntime } from '../../../src/node-agent/runtime/types.js';
import { backend, backends, endpoint, meshConfig, meshPort, meshService } from './fixtures.js';

describe('runtime: a Service\'s ports are built on first use', () => {
  it('builds a Service once, when one of its ports is first asked for; has, size and keys build nothing', () => {
    const destination = backends([backend('shop/web', 1, [endpoint('10.0.0.1')])]);
    const web = meshService('shop/web', [meshPort({ port: 80, destination }), meshPort({ port: 81, destination })]);
    const record: ServiceRecord = { service: web, built: null };
    const made: string[] = [];
    const build = (r: ServiceRecord): BuiltService => {
      made.push(r.service.key);
      const port = (key: string): PortRuntime => ({ key } as unknown as PortRuntime);
      return { ports: new Map([['shop/web:80/TCP', port('80')], ['shop/web:81/TCP', port('81')]]), carried: [] };
    };
    const ports = new LazyPorts(new Map([['shop/web:80/TCP', record], ['shop/web:81/TCP', record]]), build);
    expect([ports.size, ports.has('shop/web:81/TCP'), [...ports.keys()]]).to.deep.equal([2, true, ['shop/web:80/TCP', 'shop/web:81/TCP']]);
    expect(made).to.deep.equal([]);
    const first = ports.get('shop/web:81/TCP');
    expect(ports.get('shop/web:80/TCP')).to.not.equal(undefined);
    expect(ports.get('shop/web:81/TCP')).to.equal(first);
    expect(ports.get('shop/api:80/TCP')).to.equal(undefined);
    expect(made).to.deep.equal(['shop/web']);
  });

  it('builds a Service first used after a later build with that build\'s state, and keeps it built for the next', () => {
    const list = [backend('shop/web', 1, [endpoint('10.0.0.1'), endpoint('10.0.0.2')])];
    const web = meshService('shop/web', [meshPort({ destination: backends(list) })], { circuitBreaker: { consecutiveErrors: 1, ejectionMs: 10_000 } });
    const first = buildRuntime(meshConfig([web]), { acl: false });
    const second = buildRuntime(meshConfig([web]), { acl: false }, first);
    const port = second.ports.get('shop/web:80/TCP') as PortRuntime;
    expect(first.ports.get('shop/web:80/TCP')).to.equal(port);
    const forward = port.route(null);
    if (forward.kind !== 'forward') throw new Error(forward.reason);
    const sick = forward.backend.pickEndpoint();
    sick?.end(true);
    // Changed after it was used: built at once, carrying the ejection.
    const changed = meshService('shop/web', [meshPort({ destination: backends(list) })], { circuitBreaker: { consecutiveErrors: 1, ejectionMs: 10_000 }, timeoutMs: 5_000 });
    const third = buildRuntime(meshConfig([changed]), { acl: false }, second);
    const again = (third.ports.get('shop/web:80/TCP') as PortRuntime).route(null);
    if (again.kind !== 'forward') throw new Error(again.reason);
    for (let i = 0; i < 4; i++) expect(again.backend.pickEndpoint()?.key).to.not.equal(sick?.key);
  });
});
