/**
 * Retry budget (after Linkerd's): retries may add at most `ratio` × the first attempts seen in
 * the last `windowMs`, plus `minPerSecond` × the window's seconds so a quiet service can still
 * retry. With the defaults a sick service sees at most double its load, plus 10 retries/s.
 * The window slides in `bucketMs` steps.
 */
export interface RetryBudgetSettings {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly ratio: number;
  readonly minPerSecond: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetSettings = {
  windowMs: 10_000,
  bucketMs: 1_000,
  ratio: 1,
  minPerSecond: 10,
};

export class RetryBudget {
  readonly #settings: RetryBudgetSettings;
  readonly #attempts: number[];
  readonly #retries: number[];
  /** The bucket index (time / bucketMs) the ring was last advanced to. */
  #current: number;

  constructor(now: number, settings: RetryBudgetSettings = DEFAULT_RETRY_BUDGET) {
    this.#settings = settings;
    const buckets = Math.max(1, Math.ceil(settings.windowMs / settings.bucketMs));
    this.#attempts = new Array<number>(buckets).fill(0);
    this.#retries = new Array<number>(buckets).fill(0);
    this.#current = Math.floor(now / settings.bucketMs);
  }

  recordAttempt(now: number): void {
    const slot = this.#advance(now);
    this.#attempts[slot] = (this.#attempts[slot] as number) + 1;
  }

  /** True (and the retry is counted) while the window's retries stay within the budget. */
  tryRetry(now: number): boolean {
    const slot = this.#advance(now);
    const allowed = sum(this.#attempts) * this.#settings.ratio
      + this.#settings.minPerSecond * (this.#settings.windowMs / 1000);
    if (sum(this.#retries) + 1 > allowed) return false;
    this.#retries[slot] = (this.#retries[slot] as number) + 1;
    return true;
  }

  /** Clears the buckets that slid out of the window; returns the slot for `now`. */
  #advance(now: number): number {
    const size = this.#attempts.length;
    const bucket = Math.floor(now / this.#settings.bucketMs);
    // A clock that steps back counts into the newest bucket.
    const steps = Math.min(Math.max(0, bucket - this.#current), size);
    for (let step = 1; step <= steps; step++) {
      const slot = modulo(this.#current + step, size);
      this.#attempts[slot] = 0;
      this.#retries[slot] = 0;
    }
    if (bucket > this.#current) this.#current = bucket;
    return modulo(this.#current, size);
  }
}

function modulo(value: number, size: number): number {
  return ((value % size) + size) % size;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
