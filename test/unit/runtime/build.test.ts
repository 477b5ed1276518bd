import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import { EndpointPool } from '../../../src/node-agent/runtime/endpoint-pool.js';
import type { EndpointRuntime, MeshRuntime, PortRuntime, RouteResult } from '../../../src/node-agent/runtime/types.js';
import type { Backend, MeshService, Policy } from '../../../src/routing/mesh-config.js';
import { backend, backends, endpoint, ManualClock, meshConfig, meshPort, meshService } from './fixtures.js';

const clock = new ManualClock();
const OPTIONS = { acl: false, clock: clock.read };

function webService(list: readonly Backend[], policy: Partial<Policy> = {}): MeshService {
  return meshService('shop/web', [meshPort({ destination: backends(list, 'shop/web-split') }), meshPort({ port: 53, trafficType: 'udp', destination: backends(list) })], policy);
}

function port(runtime: MeshRuntime, key = 'shop/web:80/TCP'): PortRuntime {
  return runtime.ports.get(key) as PortRuntime;
}

function forwardOf(result: RouteResult): Extract<RouteResult, { kind: 'forward' }> {
  if (result.kind !== 'forward') throw new Error(result.reason);
  return result;
}

/** The endpoint of `service` with `key` in the runtime's default destination, ejected or not. */
function endpointOf(runtime: MeshRuntime, service: string, key: string): EndpointRuntime {
  for (let i = 0; i < 50; i++) {
    const { backend: pool } = forwardOf(port(runtime).route(null));
    if (!(pool instanceof EndpointPool)) throw new Error('not an EndpointPool');
    const found = pool.endpoints.find((endpoint) => endpoint.key === key);
    if (pool.backend.service === service && found !== undefined) return found;
  }
  throw new Error(`no endpoint ${key} of ${service}`);
}

const cb = { circuitBreaker: { consecutiveErrors: 2, ejectionMs: 10_000 } };

describe('runtime: buildRuntime', () => {
  it('builds one PortRuntime per Service port, keyed by portKey()', () => {
    const runtime = buildRuntime(meshConfig([webService([backend('shop/web', 1, [endpoint('10.0.0.1')])])]), OPTIONS);
    expect([...runtime.ports.keys()]).to.deep.equal(['shop/web:80/TCP', 'shop/web:53/UDP']);
    expect(port(runtime).service.key).to.equal('shop/web');
    expect(port(runtime).port.port).to.equal(80);
    expect(port(runtime).policy).to.equal(port(runtime).service.policy);
  });

  it('carries endpoint health and in-flight counts across a changed config', () => {
    const v1 = [endpoint('10.0.0.1'), endpoint('10.0.0.2')];
    const first = buildRuntime(meshConfig([webService([backend('shop/web', 1, v1)], cb)]), OPTIONS);
    const sick = endpointOf(first, 'shop/web', '10.0.0.1:8080');
    sick.begin();
    sick.end(true);
    sick.end(true);
    expect(sick.isEjected()).to.equal(true);
    endpointOf(first, 'shop/web', '10.0.0.2:8080').begin();

    const second = buildRuntime(meshConfig([webService([backend('shop/web', 1, [...v1, endpoint('10.0.0.3')])], cb)]), OPTIONS, first);
    expect(endpointOf(second, 'shop/web', '10.0.0.1:8080').isEjected()).to.equal(true);
    expect(endpointOf(second, 'shop/web', '10.0.0.2:8080').active).to.equal(1);
    // A request that began on the old runtime ends there; the count is shared.
    endpointOf(first, 'shop/web', '10.0.0.2:8080').end(false);
    expect(endpointOf(second, 'shop/web', '10.0.0.2:8080').active).to.equal(0);
  });

  it('keeps the old runtime routing as it was', () => {
    const first = buildRuntime(meshConfig([webService([backend('shop/web-v1', 100, [endpoint('10.0.0.1')]), backend('shop/web-v2', 0, [endpoint('10.0.0.2')])])]), OPTIONS);
    const second = buildRuntime(meshConfig([webService([backend('shop/web-v1', 0, [endpoint('10.0.0.1')]), backend('shop/web-v2', 100, [endpoint('10.0.0.2')])])]), OPTIONS, first);
    for (let i = 0; i < 10; i++) {
      expect(forwardOf(port(first).route(null)).backend.backend.service).to.equal('shop/web-v1');
      expect(forwardOf(port(second).route(null)).backend.backend.service).to.equal('shop/web-v2');
    }
  });

  it('continues the weighted sequence when the backend set is unchanged, restarts it when weights change', () => {
    const split = [backend('shop/web-v1', 1, [endpoint('10.0.0.1')]), backend('shop/web-v2', 1, [endpoint('10.0.0.2')])];
    const first = buildRuntime(meshConfig([webService(split)]), OPTIONS);
    expect(forwardOf(port(first).route(null)).backend.backend.service).to.equal('shop/web-v1');
    // Only an endpoint changed: the next pick continues where the old runtime left off.
    const moved = [split[0] as Backend, backend('shop/web-v2', 1, [endpoint('10.0.0.3')])];
    const second = buildRuntime(meshConfig([webService(moved)]), OPTIONS, first);
    expect(forwardOf(port(second).route(null)).backend.backend.service).to.equal('shop/web-v2');
    const reweighted = [backend('shop/web-v1', 2, [endpoint('10.0.0.1')]), backend('shop/web-v2', 1, [endpoint('10.0.0.3')])];
    const third = buildRuntime(meshConfig([webService(reweighted)]), OPTIONS, second);
    expect(forwardOf(port(third).route(null)).backend.backend.service).to.equal('shop/web-v1');
  });

  it('continues round-robin when the endpoint set is unchanged', () => {
    const list = [backend('shop/web', 1, [endpoint('10.0.0.1'), endpoint('10.0.0.2')])];
    const first = buildRuntime(meshConfig([webService(list)]), OPTIONS);
    expect(forwardOf(port(first).route(null)).backend.pickEndpoint()?.key).to.equal('10.0.0.1:8080');
    const second = buildRuntime(meshConfig([webService(list, { timeoutMs: 5_000 })]), OPTIONS, first);
    expect(forwardOf(port(second).route(null)).backend.pickEndpoint()?.key).to.equal('10.0.0.2:8080');
  });

  it('carries rate-limit tokens and the retry budget while their policy is unchanged, resets them when it changes', () => {
    const list = [backend('shop/web', 1, [endpoint('10.0.0.1')])];
    const policy = { rateLimit: { average: 1, burst: 2 }, retryAttempts: 1 };
    const first = buildRuntime(meshConfig([webService(list, policy)]), OPTIONS);
    expect([port(first).tryAcquireRateLimit(), port(first).tryAcquireRateLimit()]).to.deep.equal([true, true]);
    let retries = 0;
    while (port(first).canRetry() && retries < 1_000) retries++;
    expect(retries).to.equal(100);

    const second = buildRuntime(meshConfig([webService(list, { ...policy, timeoutMs: 1_000 })]), OPTIONS, first);
    expect(port(second).tryAcquireRateLimit()).to.equal(false);
    expect(port(second).canRetry()).to.equal(false);

    const third = buildRuntime(meshConfig([webService(list, { rateLimit: { average: 1, burst: 3 }, retryAttempts: 2 })]), OPTIONS, second);
    expect([port(third).tryAcquireRateLimit(), port(third).tryAcquireRateLimit(), port(third).tryAcquireRateLimit()]).to.deep.equal([true, true, true]);
    expect(port(third).canRetry()).to.equal(true);
  });

  it('drops state of Services the new config no longer has', () => {
    const list = [backend('shop/web', 1, [endpoint('10.0.0.1'), endpoint('10.0.0.2')])];
    const first = buildRuntime(meshConfig([webService(list, cb)]), OPTIONS);
    const sick = endpointOf(first, 'shop/web', '10.0.0.1:8080');
    sick.end(true);
    sick.end(true);
    const empty = buildRuntime(meshConfig([]), OPTIONS, first);
    expect(empty.ports.size).to.equal(0);
    const back = buildRuntime(meshConfig([webService(list, cb)]), OPTIONS, empty);
    expect(endpointOf(back, 'shop/web', '10.0.0.1:8080').isEjected()).to.equal(false);
  });

  it('keeps the runtime of a Service whose MeshService is the same object, and rebuilds a changed one', () => {
    const web = webService([backend('shop/web', 1, [endpoint('10.0.0.1')])]);
    const api = meshService('shop/api', [meshPort({ destination: backends([backend('shop/api', 1, [endpoint('10.0.0.5')])]) })]);
    const identities = [{ ip: '10.0.0.9', namespace: 'shop', serviceAccount: 'client', pod: 'client-1' }];
    const first = buildRuntime(meshConfig([web, api], identities), OPTIONS);
    const apiMoved = meshService('shop/api', [meshPort({ destination: backends([backend('shop/api', 1, [endpoint('10.0.0.6')])]) })]);
    const second = buildRuntime(meshConfig([web, apiMoved], identities), OPTIONS, first);
    expect(port(second)).to.equal(port(first));
    expect(port(second, 'shop/web:53/UDP')).to.equal(port(first, 'shop/web:53/UDP'));
    expect(port(second, 'shop/api:80/TCP')).to.not.equal(port(first, 'shop/api:80/TCP'));
    expect(forwardOf(port(second, 'shop/api:80/TCP').route(null)).backend.pickEndpoint()?.key).to.equal('10.0.0.6:8080');
    // Other identities: every authorizer reads them, so every Service is built again.
    const third = buildRuntime(meshConfig([web, apiMoved], [{ ...identities[0]!, ip: '10.0.0.10' }]), OPTIONS, second);
    expect(port(third)).to.not.equal(port(second));
  });

  it('carries the state of a Service kept as it was into later builds', () => {
    const list = [backend('shop/web', 1, [endpoint('10.0.0.1'), endpoint('10.0.0.2')])];
    const web = webService(list, cb);
    const first = buildRuntime(meshConfig([web]), OPTIONS);
    const sick = endpointOf(first, 'shop/web', '10.0.0.1:8080');
    sick.end(true);
    sick.end(true);
    const kept = buildRuntime(meshConfig([web, meshService('shop/api', [meshPort({ destination: backends(list) })])]), OPTIONS, first);
    expect(port(kept)).to.equal(port(first));
    const changed = buildRuntime(meshConfig([webService(list, { ...cb, timeoutMs: 5_000 })]), OPTIONS, kept);
    expect(port(changed)).to.not.equal(port(first));
    expect(endpointOf(changed, 'shop/web', '10.0.0.1:8080').isEjected()).to.equal(true);
  });
});
