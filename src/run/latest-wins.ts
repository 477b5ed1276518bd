/**
 * What every mode runner waits on. The update queue: updates are applied one at a time, and while one applies
 * only the newest waiting one is kept (a burst of changes compiles once, never out of order). A
 * newer update replaces the waiting one through `fold`, which may carry what the dropped one said
 * (snapshots: the changes it made, see foldChanges).
 */
export class LatestWins<T> {
  readonly #apply: (update: T) => Promise<void>;
  readonly #onError: (err: unknown) => void;
  readonly #fold: (dropped: T, newer: T) => T;
  #running: Promise<void> = Promise.resolve();
  #waiting: { readonly update: T } | null = null;

  /** `onError` hears an update that failed to apply; the next one is applied all the same. */
  constructor(apply: (update: T) => Promise<void>, onError: (err: unknown) => void, fold: (dropped: T, newer: T) => T = (_, newer) => newer) {
    this.#apply = apply;
    this.#onError = onError;
    this.#fold = fold;
  }

  push(update: T): void {
    const waiting = this.#waiting;
    const idle = waiting === null;
    this.#waiting = { update: waiting === null ? update : this.#fold(waiting.update, update) };
    if (!idle) return;
    this.#running = this.#running.then(async () => {
      const next = this.#waiting;
      this.#waiting = null;
      if (next) await this.#apply(next.update).catch(this.#onError);
    });
  }

  /** Resolves once every update pushed so far has been applied (or skipped for a newer one). */
  settled(): Promise<void> {
    return this.#running;
  }
}

/** Resolves when `signal` aborts (at once if it has): a mode runner serves until then. */
export function stopRequested(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
