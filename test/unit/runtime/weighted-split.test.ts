import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import type { PortRuntime, RouteResult } from '../../../src/node-agent/runtime/types.js';
import { SmoothWeightedChoice } from '../../../src/node-agent/runtime/weighted-choice.js';
import type { Destination } from '../../../src/routing/mesh-config.js';
import { backend, backends, endpoint, meshConfig, meshPort, meshService } from './fixtures.js';

function portWith(destination: Destination): PortRuntime {
  const runtime = buildRuntime(meshConfig([meshService('shop/web', [meshPort({ destination })])]), { acl: false });
  return runtime.ports.get('shop/web:80/TCP') as PortRuntime;
}

function forwardedService(result: RouteResult): string {
  if (result.kind !== 'forward') throw new Error(`expected forward, got ${result.reason}`);
  return result.backend.backend.service;
}

/** Backend Service → number of the `picks` routed to it. */
function countRoutes(port: PortRuntime, picks: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const service = forwardedService(port.route(null));
    counts.set(service, (counts.get(service) ?? 0) + 1);
  }
  return counts;
}

describe('runtime: weighted backend choice', () => {
  const weightSets: readonly (readonly number[])[] = [
    [50, 50], [90, 10], [80, 20], [1000, 500], [1, 2, 3, 4], [33, 33, 34], [1, 99], [0, 100], [500, 0, 500], [7, 3, 0, 90],
  ];
  for (const weights of weightSets) {
    it(`keeps each share within ±2 points of its weight over 1,000 requests: ${weights.join('/')}`, () => {
      const list = weights.map((weight, i) => backend(`shop/web-v${i}`, weight, [endpoint(`10.0.0.${i + 1}`)]));
      const counts = countRoutes(portWith(backends(list, 'shop/web-split')), 1000);
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      weights.forEach((weight, i) => {
        const share = ((counts.get(`shop/web-v${i}`) ?? 0) / 1000) * 100;
        expect(Math.abs(share - (weight / total) * 100), `v${i}: ${share}%`).to.be.at.most(2);
        if (weight === 0) expect(counts.has(`shop/web-v${i}`)).to.equal(false);
      });
    });
  }

  it('interleaves smoothly instead of sending runs to one backend (1000/500 → A B A, A B A)', () => {
    const choice = new SmoothWeightedChoice([1000, 500]);
    const picks = Array.from({ length: 6 }, () => choice.pick(() => true));
    expect(picks).to.deep.equal([0, 1, 0, 0, 1, 0]);
  });

  it('answers a reject destination (all weights zero) with its status and reason', () => {
    const port = portWith({ kind: 'reject', split: 'shop/web-split', status: 503, reason: 'all backends of TrafficSplit shop/web-split have weight 0' });
    expect(port.route(null)).to.deep.equal({ kind: 'reject', status: 503, reason: 'all backends of TrafficSplit shop/web-split have weight 0' });
  });

  it('skips a backend with no ready endpoint and sends its share to the others', () => {
    const port = portWith(backends([
      backend('shop/web-v1', 50, [endpoint('10.0.0.1')]),
      backend('shop/web-v2', 50, [endpoint('10.0.0.2', 8080, { ready: false })]),
    ]));
    expect(countRoutes(port, 100)).to.deep.equal(new Map([['shop/web-v1', 100]]));
  });

  it('rejects with 503 naming the Service when no backend has a ready endpoint', () => {
    const single = portWith(backends([backend('shop/web', 100, [endpoint('10.0.0.1', 8080, { ready: false, terminating: true })])]));
    expect(single.route(null)).to.deep.equal({ kind: 'reject', status: 503, reason: 'no ready endpoints for service shop/web' });
    const split = portWith(backends([backend('shop/web-v1', 10, []), backend('shop/web-v2', 90, []), backend('shop/web-v3', 0, [endpoint('10.0.0.3')])]));
    expect(split.route(null)).to.deep.equal({ kind: 'reject', status: 503, reason: 'no ready endpoints for services shop/web-v1, shop/web-v2' });
  });

  it('returns the same forward result objects on every request (no per-request allocation)', () => {
    const port = portWith(backends([backend('shop/web', 100, [endpoint('10.0.0.1')])]));
    expect(port.route(null)).to.equal(port.route(null));
  });
});
