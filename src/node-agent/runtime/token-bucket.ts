/**
 * Token bucket: holds up to `burst` tokens (at least 1), starts full and refills continuously
 * at `average` tokens per second. Each request takes one token; none left → reject (429).
 */
import type { RateLimitPolicy } from '../../routing/mesh-config.js';

export class TokenBucket {
  readonly #capacity: number;
  readonly #tokensPerMs: number;
  #tokens: number;
  #updatedAt: number;

  constructor(policy: RateLimitPolicy, now: number) {
    this.#capacity = Math.max(1, policy.burst);
    this.#tokensPerMs = Math.max(0, policy.average) / 1000;
    this.#tokens = this.#capacity;
    this.#updatedAt = now;
  }

  tryAcquire(now: number): boolean {
    // A clock that steps back adds nothing rather than draining the bucket.
    if (now > this.#updatedAt) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#tokensPerMs);
      this.#updatedAt = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
