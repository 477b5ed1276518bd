import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from '../../../src/node-agent/runtime/retry-budget.js';
import type { PortRuntime } from '../../../src/node-agent/runtime/types.js';
import { backend, backends, endpoint, ManualClock, meshConfig, meshPort, meshService } from './fixtures.js';

/** The number of retries granted out of `attempts` tries at `now`. */
function retries(budget: RetryBudget, now: number, attempts: number): number {
  let granted = 0;
  for (let i = 0; i < attempts; i++) if (budget.tryRetry(now)) granted++;
  return granted;
}

describe('runtime: retry budget', () => {
  const minimum = DEFAULT_RETRY_BUDGET.minPerSecond * (DEFAULT_RETRY_BUDGET.windowMs / 1000);

  it('documents its numbers: 10 s window in 1 s buckets, retries ≤ first attempts + 10/s', () => {
    expect(DEFAULT_RETRY_BUDGET).to.deep.equal({ windowMs: 10_000, bucketMs: 1_000, ratio: 1, minPerSecond: 10 });
  });

  it('lets a quiet service retry up to the minimum only', () => {
    const budget = new RetryBudget(0);
    expect(retries(budget, 0, 500)).to.equal(minimum);
  });

  it('caps retries at the first attempts of the window plus the minimum (at most double load)', () => {
    const budget = new RetryBudget(0);
    for (let i = 0; i < 1_000; i++) budget.recordAttempt(500);
    expect(retries(budget, 900, 5_000)).to.equal(1_000 + minimum);
  });

  it('frees the budget as the window slides past old retries and attempts', () => {
    const budget = new RetryBudget(0);
    for (let i = 0; i < 200; i++) budget.recordAttempt(0);
    expect(retries(budget, 0, 1_000)).to.equal(200 + minimum);
    expect(retries(budget, 9_999, 10)).to.equal(0);
    // At 10 s the first bucket (its 200 attempts and 300 retries) leaves the window.
    expect(retries(budget, 10_000, 1_000)).to.equal(minimum);
  });

  it('counts only what happened in the last window, across a long idle gap', () => {
    const budget = new RetryBudget(0);
    for (let i = 0; i < 50; i++) budget.recordAttempt(0);
    retries(budget, 0, 1_000);
    for (let i = 0; i < 10; i++) budget.recordAttempt(3_600_000);
    expect(retries(budget, 3_600_500, 1_000)).to.equal(10 + minimum);
  });

  it('is per destination Service, false when the policy has no retries', () => {
    const clock = new ManualClock();
    const destination = backends([backend('shop/web', 100, [endpoint('10.0.0.1')])]);
    const runtime = buildRuntime(meshConfig([
      meshService('shop/api', [meshPort({ destination })]),
      meshService('shop/web', [meshPort({ port: 80, destination }), meshPort({ port: 81, destination })], { retryAttempts: 2 }),
    ]), { acl: false, clock: clock.read });
    const api = runtime.ports.get('shop/api:80/TCP') as PortRuntime;
    api.recordAttempt();
    expect(api.canRetry()).to.equal(false);
    const web80 = runtime.ports.get('shop/web:80/TCP') as PortRuntime;
    const web81 = runtime.ports.get('shop/web:81/TCP') as PortRuntime;
    for (let i = 0; i < 5; i++) web80.recordAttempt();
    let granted = 0;
    for (let i = 0; i < 300; i++) if ((i % 2 === 0 ? web80 : web81).canRetry()) granted++;
    expect(granted).to.equal(5 + minimum);
  });
});
