/**
 * State that outlives one runtime: each build takes what the new config still uses from the
 * previous build's maps (same key, same signature) and creates the rest. Entries the new config
 * no longer uses are dropped from the new maps; old runtimes keep their own references, so
 * requests in flight on them are unaffected.
 */
import { EndpointHealth } from './circuit-breaker.js';
import type { PoolCursor } from './endpoint-pool.js';
import type { RetryBudget } from './retry-budget.js';
import type { TokenBucket } from './token-bucket.js';
import type { SmoothWeightedChoice } from './weighted-choice.js';

export class CarriedMap<V> {
  readonly #entries = new Map<string, { readonly signature: string; readonly value: V }>();
  #previous: CarriedMap<V> | undefined;

  constructor(previous?: CarriedMap<V>) {
    this.#previous = previous;
  }

  /** The value for `key`: this build's, else the previous build's if its signature is the same, else `create()`. */
  obtain(key: string, signature: string, create: () => V): V {
    const previous = this.#previous === undefined ? undefined : this.#previous.#entries.get(key);
    const existing = this.#entries.get(key) ?? previous;
    const value = existing !== undefined && existing.signature === signature ? existing.value : create();
    this.#entries.set(key, { signature, value });
    return value;
  }

  /** Ends the build: drop the link to the previous map so old runtimes can be collected. */
  release(): void {
    this.#previous = undefined;
  }
}

export class CarriedState {
  /** By backend Service + `ip:port`: in-flight counts and circuit-breaker state. */
  readonly endpointHealth: CarriedMap<EndpointHealth>;
  /** By listener + backend Service + ordered endpoint set. */
  readonly cursors: CarriedMap<PoolCursor>;
  /** By listener + split + backends with their weights. */
  readonly choices: CarriedMap<SmoothWeightedChoice>;
  /** By destination Service, signature = its rate-limit policy. */
  readonly rateLimits: CarriedMap<TokenBucket>;
  /** By destination Service, signature = its retry policy. */
  readonly retryBudgets: CarriedMap<RetryBudget>;

  constructor(previous?: CarriedState) {
    this.endpointHealth = new CarriedMap(previous?.endpointHealth);
    this.cursors = new CarriedMap(previous?.cursors);
    this.choices = new CarriedMap(previous?.choices);
    this.rateLimits = new CarriedMap(previous?.rateLimits);
    this.retryBudgets = new CarriedMap(previous?.retryBudgets);
  }

  /** Call once the build is done. */
  release(): void {
    for (const map of [this.endpointHealth, this.cursors, this.choices, this.rateLimits, this.retryBudgets]) map.release();
  }

  healthOf(service: string, endpointKey: string): EndpointHealth {
    return this.endpointHealth.obtain(`${service}|${endpointKey}`, '', () => new EndpointHealth());
  }
}
