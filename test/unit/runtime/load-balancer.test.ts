import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import type { BackendRuntime, EndpointRuntime, PortRuntime } from '../../../src/node-agent/runtime/types.js';
import type { Endpoint, LoadBalancer } from '../../../src/routing/mesh-config.js';
import { seededRandom } from '../../helpers/prng.js';
import { backend, backends, endpoint, meshConfig, meshPort, meshService } from './fixtures.js';

function backendOf(endpoints: readonly Endpoint[], loadBalancer: LoadBalancer, random = seededRandom(7)): BackendRuntime {
  const service = meshService('shop/web', [meshPort({ destination: backends([backend('shop/web', 100, endpoints)]) })], { loadBalancer });
  const port = buildRuntime(meshConfig([service]), { acl: false, random }).ports.get('shop/web:80/TCP') as PortRuntime;
  const result = port.route(null);
  if (result.kind !== 'forward') throw new Error(result.reason);
  return result.backend;
}

function pickKeys(balancer: BackendRuntime, count: number, exclude?: ReadonlySet<EndpointRuntime>): string[] {
  return Array.from({ length: count }, () => balancer.pickEndpoint(exclude)?.key ?? 'none');
}

const three = [endpoint('10.0.0.1'), endpoint('10.0.0.2'), endpoint('10.0.0.3')];

describe('runtime: load balancing', () => {
  describe('round-robin', () => {
    it('cycles through the endpoints in order', () => {
      expect(pickKeys(backendOf(three, 'round-robin'), 6)).to.deep.equal([
        '10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080',
      ]);
    });

    it('never picks not-ready or terminating endpoints', () => {
      const balancer = backendOf([
        endpoint('10.0.0.1', 8080, { ready: false }),
        endpoint('10.0.0.2'),
        endpoint('10.0.0.3', 8080, { ready: true, terminating: true }),
        endpoint('10.0.0.4', 8080, { ready: false, serving: true, terminating: true }),
      ], 'round-robin');
      expect(new Set(pickKeys(balancer, 20))).to.deep.equal(new Set(['10.0.0.2:8080']));
    });

    it('spells IPv6 endpoint keys with brackets', () => {
      expect(backendOf([endpoint('fd00::1')], 'round-robin').pickEndpoint()?.key).to.equal('[fd00::1]:8080');
    });
  });

  describe('least-request', () => {
    it('never picks the busy endpoint when two choices always include an idle one', () => {
      const balancer = backendOf(three, 'least-request');
      const busy = balancer.pickEndpoint() as EndpointRuntime;
      for (let i = 0; i < 5; i++) busy.begin();
      const picks = pickKeys(balancer, 200);
      expect(picks).to.not.include(busy.key);
      busy.end(false);
      expect(busy.active).to.equal(4);
    });

    it('prefers the less loaded of two endpoints', () => {
      const balancer = backendOf(three.slice(0, 2), 'least-request');
      const first = balancer.pickEndpoint() as EndpointRuntime;
      first.begin();
      const second = balancer.pickEndpoint() as EndpointRuntime;
      expect(second).to.not.equal(first);
      second.begin();
      second.begin();
      expect(balancer.pickEndpoint()).to.equal(first);
    });

    it('spreads idle traffic evenly (ties go round-robin)', () => {
      const counts = new Map<string, number>();
      for (const key of pickKeys(backendOf(three, 'least-request'), 300)) counts.set(key, (counts.get(key) ?? 0) + 1);
      expect([...counts.keys()].sort()).to.deep.equal(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
      for (const count of counts.values()) expect(count).to.be.within(70, 130);
    });

    it('alternates between two idle endpoints', () => {
      const picks = pickKeys(backendOf(three.slice(0, 2), 'least-request'), 6);
      expect(picks).to.deep.equal(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.1:8080', '10.0.0.2:8080']);
    });

    it('never picks not-ready or terminating endpoints', () => {
      const balancer = backendOf([endpoint('10.0.0.1', 8080, { ready: false }), endpoint('10.0.0.2'), endpoint('10.0.0.3', 8080, { terminating: true })], 'least-request');
      expect(new Set(pickKeys(balancer, 20))).to.deep.equal(new Set(['10.0.0.2:8080']));
    });
  });

  for (const loadBalancer of ['round-robin', 'least-request'] as const) {
    describe(`retries to a different endpoint (${loadBalancer})`, () => {
      it('avoids the excluded endpoints while another is usable', () => {
        const balancer = backendOf(three, loadBalancer);
        const tried = new Set([balancer.pickEndpoint() as EndpointRuntime]);
        for (let i = 0; i < 20; i++) expect(tried.has(balancer.pickEndpoint(tried) as EndpointRuntime)).to.equal(false);
        tried.add(balancer.pickEndpoint(tried) as EndpointRuntime);
        const last = balancer.pickEndpoint(tried) as EndpointRuntime;
        expect(tried.has(last)).to.equal(false);
        expect([...tried, last].map((e) => e.key).sort()).to.deep.equal(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
      });

      it('falls back to an excluded endpoint when nothing else is usable', () => {
        const balancer = backendOf(three.slice(0, 1), loadBalancer);
        const only = balancer.pickEndpoint() as EndpointRuntime;
        expect(balancer.pickEndpoint(new Set([only]))).to.equal(only);
      });
    });
  }
});
