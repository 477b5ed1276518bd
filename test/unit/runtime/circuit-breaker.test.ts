import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import type { BackendRuntime, EndpointRuntime, PortRuntime } from '../../../src/node-agent/runtime/types.js';
import type { CircuitBreakerPolicy, Endpoint } from '../../../src/routing/mesh-config.js';
import { backend, backends, endpoint, ManualClock, meshConfig, meshPort, meshService } from './fixtures.js';

const POLICY: CircuitBreakerPolicy = { consecutiveErrors: 3, ejectionMs: 30_000 };

function setup(endpoints: readonly Endpoint[], circuitBreaker: CircuitBreakerPolicy | null = POLICY): { clock: ManualClock; balancer: BackendRuntime; byKey: Map<string, EndpointRuntime> } {
  const clock = new ManualClock();
  const service = meshService('shop/web', [meshPort({ destination: backends([backend('shop/web', 100, endpoints)]) })], { circuitBreaker });
  const port = buildRuntime(meshConfig([service]), { acl: false, clock: clock.read }).ports.get('shop/web:80/TCP') as PortRuntime;
  const result = port.route(null);
  if (result.kind !== 'forward') throw new Error(result.reason);
  const byKey = new Map<string, EndpointRuntime>();
  for (let i = 0; i < endpoints.length * 2; i++) {
    const picked = result.backend.pickEndpoint() as EndpointRuntime;
    byKey.set(picked.key, picked);
  }
  return { clock, balancer: result.backend, byKey };
}

function fail(target: EndpointRuntime, times: number): void {
  for (let i = 0; i < times; i++) {
    target.begin();
    target.end(true);
  }
}

function succeed(target: EndpointRuntime): void {
  target.begin();
  target.end(false);
}

function picks(balancer: BackendRuntime, count: number): Set<string> {
  return new Set(Array.from({ length: count }, () => balancer.pickEndpoint()?.key ?? 'none'));
}

describe('runtime: circuit breaker', () => {
  it('ejects an endpoint after N consecutive failures, for the ejection time', () => {
    const { clock, balancer, byKey } = setup([endpoint('10.0.0.1'), endpoint('10.0.0.2')]);
    const sick = byKey.get('10.0.0.1:8080') as EndpointRuntime;
    fail(sick, 2);
    expect(sick.isEjected()).to.equal(false);
    fail(sick, 1);
    expect(sick.isEjected()).to.equal(true);
    expect(picks(balancer, 10)).to.deep.equal(new Set(['10.0.0.2:8080']));
    clock.advance(POLICY.ejectionMs - 1);
    expect(sick.isEjected()).to.equal(true);
    clock.advance(1);
    expect(sick.isEjected()).to.equal(false);
    expect(picks(balancer, 10)).to.deep.equal(new Set(['10.0.0.1:8080', '10.0.0.2:8080']));
  });

  it('resets the count on a success', () => {
    const { byKey } = setup([endpoint('10.0.0.1'), endpoint('10.0.0.2')]);
    const flaky = byKey.get('10.0.0.1:8080') as EndpointRuntime;
    fail(flaky, 2);
    succeed(flaky);
    fail(flaky, 2);
    expect(flaky.isEjected()).to.equal(false);
    fail(flaky, 1);
    expect(flaky.isEjected()).to.equal(true);
  });

  it('re-ejects on the first failure after an ejection ends (half-open), and closes after a success', () => {
    const { clock, byKey } = setup([endpoint('10.0.0.1'), endpoint('10.0.0.2')]);
    const sick = byKey.get('10.0.0.1:8080') as EndpointRuntime;
    fail(sick, 3);
    clock.advance(POLICY.ejectionMs);
    fail(sick, 1);
    expect(sick.isEjected()).to.equal(true);
    clock.advance(POLICY.ejectionMs);
    succeed(sick);
    fail(sick, 2);
    expect(sick.isEjected()).to.equal(false);
  });

  it('never ejects the last non-ejected endpoint of a backend', () => {
    const { clock, balancer, byKey } = setup([endpoint('10.0.0.1'), endpoint('10.0.0.2'), endpoint('10.0.0.3')]);
    for (const target of byKey.values()) fail(target, 10);
    const ejected = [...byKey.values()].filter((e) => e.isEjected());
    expect(ejected).to.have.length(2);
    const survivor = [...byKey.values()].find((e) => !e.isEjected()) as EndpointRuntime;
    expect(picks(balancer, 10)).to.deep.equal(new Set([survivor.key]));
    clock.advance(POLICY.ejectionMs);
    expect(picks(balancer, 10).size).to.equal(3);
  });

  it('never ejects a backend\'s only endpoint', () => {
    const { balancer, byKey } = setup([endpoint('10.0.0.1')]);
    fail(byKey.get('10.0.0.1:8080') as EndpointRuntime, 50);
    expect(balancer.pickEndpoint()?.key).to.equal('10.0.0.1:8080');
  });

  it('ignores failures of requests that were in flight when it was ejected', () => {
    const { clock, byKey } = setup([endpoint('10.0.0.1'), endpoint('10.0.0.2')]);
    const sick = byKey.get('10.0.0.1:8080') as EndpointRuntime;
    for (let i = 0; i < 5; i++) sick.begin();
    for (let i = 0; i < 3; i++) sick.end(true);
    expect(sick.isEjected()).to.equal(true);
    clock.advance(10_000);
    for (let i = 0; i < 2; i++) sick.end(true);
    expect(sick.active).to.equal(0);
    // Had the stale failures counted, the ejection would have been extended past this point.
    clock.advance(POLICY.ejectionMs - 10_000);
    expect(sick.isEjected()).to.equal(false);
  });

  it('never ejects without a circuit-breaker policy', () => {
    const { byKey } = setup([endpoint('10.0.0.1'), endpoint('10.0.0.2')], null);
    const sick = byKey.get('10.0.0.1:8080') as EndpointRuntime;
    fail(sick, 100);
    expect(sick.isEjected()).to.equal(false);
  });

  it('keeps in-flight counts from going below zero', () => {
    const { byKey } = setup([endpoint('10.0.0.1')]);
    const target = byKey.get('10.0.0.1:8080') as EndpointRuntime;
    target.end(false);
    expect(target.active).to.equal(0);
  });
});
