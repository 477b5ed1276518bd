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

/** One carried value; the same object moves from build to build while its signature holds. */
export interface Carried<V> {
  /** Which map of the CarriedState it belongs to. */
  readonly slot: number;
  readonly key: string;
  readonly signature: string;
  readonly value: V;
}

export class CarriedMap<V> {
  readonly #entries = new Map<string, Carried<V>>();
  readonly #slot: number;
  #previous: CarriedMap<V> | undefined;
  /** Where this build's obtained entries are noted, while a Service is being built (see CarriedState.record). */
  used: Carried<unknown>[] | null = null;

  constructor(slot: number, previous?: CarriedMap<V>) {
    this.#slot = slot;
    this.#previous = previous;
  }

  /** The value for `key`: this build's, else the previous build's if its signature is the same, else `create()`. */
  obtain(key: string, signature: string, create: () => V): V {
    let entry = this.#entries.get(key) ?? (this.#previous === undefined ? undefined : this.#previous.#entries.get(key));
    if (entry === undefined || entry.signature !== signature) entry = { slot: this.#slot, key, signature, value: create() };
    this.#entries.set(key, entry);
    this.used?.push(entry);
    return entry.value;
  }

  /** Takes over an entry a reused Service obtained in an earlier build (unless this build has one). */
  adopt(entry: Carried<V>): void {
    if (!this.#entries.has(entry.key)) this.#entries.set(entry.key, entry);
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
    this.endpointHealth = new CarriedMap(0, previous?.endpointHealth);
    this.cursors = new CarriedMap(1, previous?.cursors);
    this.choices = new CarriedMap(2, previous?.choices);
    this.rateLimits = new CarriedMap(3, previous?.rateLimits);
    this.retryBudgets = new CarriedMap(4, previous?.retryBudgets);
  }

  /** Call once the build is done. */
  release(): void {
    for (const map of this.#maps()) map.release();
  }

  /** Runs `build` and returns it with every entry it obtained, so a later build reusing what it built can adopt them. */
  record<T>(build: () => T): { value: T; entries: readonly Carried<unknown>[] } {
    const entries: Carried<unknown>[] = [];
    const maps = this.#maps();
    for (const map of maps) map.used = entries;
    try {
      return { value: build(), entries };
    } finally {
      for (const map of maps) map.used = null;
    }
  }

  /** Carries the entries a reused Service obtained when it was built. */
  adopt(entries: readonly Carried<unknown>[]): void {
    const maps = this.#maps();
    for (const entry of entries) maps[entry.slot]?.adopt(entry);
  }

  #maps(): CarriedMap<unknown>[] {
    return [this.endpointHealth, this.cursors, this.choices, this.rateLimits, this.retryBudgets] as CarriedMap<unknown>[];
  }

  healthOf(service: string, endpointKey: string): EndpointHealth {
    return this.endpointHealth.obtain(`${service}|${endpointKey}`, '', () => new EndpointHealth());
  }
}
