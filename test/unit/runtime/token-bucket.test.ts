import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import { TokenBucket } from '../../../src/node-agent/runtime/token-bucket.js';
import type { PortRuntime } from '../../../src/node-agent/runtime/types.js';
import type { RateLimitPolicy } from '../../../src/routing/mesh-config.js';
import { backend, backends, endpoint, ManualClock, meshConfig, meshPort, meshService } from './fixtures.js';

function acquired(bucket: TokenBucket, now: number, attempts: number): number {
  let granted = 0;
  for (let i = 0; i < attempts; i++) if (bucket.tryAcquire(now)) granted++;
  return granted;
}

describe('runtime: rate limit (token bucket)', () => {
  it('allows a burst up to the burst size, then refuses', () => {
    const bucket = new TokenBucket({ average: 10, burst: 20 }, 0);
    expect(acquired(bucket, 0, 50)).to.equal(20);
  });

  it('refills at the average rate, never beyond the burst size', () => {
    const bucket = new TokenBucket({ average: 10, burst: 20 }, 0);
    acquired(bucket, 0, 20);
    expect(acquired(bucket, 100, 5)).to.equal(1);
    expect(acquired(bucket, 550, 10)).to.equal(4);
    expect(acquired(bucket, 60_000, 100)).to.equal(20);
  });

  it('accumulates fractional tokens', () => {
    const bucket = new TokenBucket({ average: 1, burst: 1 }, 0);
    expect(bucket.tryAcquire(0)).to.equal(true);
    expect(bucket.tryAcquire(999)).to.equal(false);
    expect(bucket.tryAcquire(1_000)).to.equal(true);
  });

  it('gains nothing when the clock steps back', () => {
    const bucket = new TokenBucket({ average: 100, burst: 1 }, 5_000);
    expect(bucket.tryAcquire(5_000)).to.equal(true);
    expect(bucket.tryAcquire(1_000)).to.equal(false);
    expect(bucket.tryAcquire(5_010)).to.equal(true);
  });

  it('holds at least one token even with burst 0', () => {
    expect(acquired(new TokenBucket({ average: 5, burst: 0 }, 0), 0, 3)).to.equal(1);
  });

  it('is shared by every port of the destination Service, and absent without a policy', () => {
    const clock = new ManualClock();
    const rateLimit: RateLimitPolicy = { average: 1, burst: 3 };
    const destination = backends([backend('shop/web', 100, [endpoint('10.0.0.1')])]);
    const limited = meshService('shop/web', [meshPort({ port: 80, destination }), meshPort({ port: 81, destination })], { rateLimit });
    const open = meshService('shop/api', [meshPort({ destination })]);
    const runtime = buildRuntime(meshConfig([open, limited]), { acl: false, clock: clock.read });
    const web80 = runtime.ports.get('shop/web:80/TCP') as PortRuntime;
    const web81 = runtime.ports.get('shop/web:81/TCP') as PortRuntime;
    expect([web80.tryAcquireRateLimit(), web81.tryAcquireRateLimit(), web80.tryAcquireRateLimit(), web81.tryAcquireRateLimit()])
      .to.deep.equal([true, true, true, false]);
    clock.advance(1_000);
    expect(web81.tryAcquireRateLimit()).to.equal(true);
    expect(web80.tryAcquireRateLimit(clock.now)).to.equal(false);
    const api = runtime.ports.get('shop/api:80/TCP') as PortRuntime;
    for (let i = 0; i < 100; i++) expect(api.tryAcquireRateLimit()).to.equal(true);
  });
});
