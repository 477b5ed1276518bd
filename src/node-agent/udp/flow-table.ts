/**
 * A bounded map of UDP flows in least-recently-used order (pure; no I/O, no timers).
 *
 * Map iteration order is insertion order, so touching a flow re-inserts it: the first entries
 * are always the ones idle the longest, which makes both LRU eviction and idle expiry a walk
 * from the front that stops at the first entry still in use.
 */
export interface Flow {
  lastActive: number;
}

export class FlowTable<F extends Flow> {
  readonly #flows = new Map<string, F>();
  readonly #capacity: number;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`flow table capacity must be at least 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#flows.size;
  }

  /** The flow for `key`, marked active at `now`. */
  touch(key: string, now: number): F | undefined {
    const flow = this.#flows.get(key);
    if (!flow) return undefined;
    flow.lastActive = now;
    this.#flows.delete(key);
    this.#flows.set(key, flow);
    return flow;
  }

  /** Adds a flow; returns the flows evicted to stay within capacity (least recently used first). */
  add(key: string, flow: F): F[] {
    this.#flows.delete(key);
    this.#flows.set(key, flow);
    const evicted: F[] = [];
    for (const [oldKey, oldFlow] of this.#flows) {
      if (this.#flows.size <= this.#capacity) break;
      this.#flows.delete(oldKey);
      evicted.push(oldFlow);
    }
    return evicted;
  }

  delete(key: string): void {
    this.#flows.delete(key);
  }

  /** Removes and returns the flows not active since `cutoff`. */
  expire(cutoff: number): F[] {
    const expired: F[] = [];
    for (const [key, flow] of this.#flows) {
      if (flow.lastActive > cutoff) break;
      this.#flows.delete(key);
      expired.push(flow);
    }
    return expired;
  }

  /** Removes and returns every flow. */
  clear(): F[] {
    const all = [...this.#flows.values()];
    this.#flows.clear();
    return all;
  }
}
