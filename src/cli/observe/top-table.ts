/**
 * `plexus top`'s table: tap events counted per (caller, destination, method, path), with the
 * best, worst and last latency and the success rate, busiest first, like `linkerd viz top`.
 */
import { latency, percent, table } from './format.js';
import type { TapEvent } from './tap-stream.js';

interface TopRow {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  count: number;
  ok: number;
  failed: number;
  best: number;
  worst: number;
  last: number;
}

/** At most this many distinct rows are kept (the least busy are forgotten first). */
const MAX_ROWS = 10_000;

export class TopTable {
  readonly #rows = new Map<string, TopRow>();

  add(event: TapEvent): void {
    const key = `${event.source}\0${event.destination}\0${event.method}\0${event.path}`;
    let row = this.#rows.get(key);
    if (row === undefined) {
      if (this.#rows.size >= MAX_ROWS) this.#forgetQuietest();
      row = { source: event.source, destination: event.destination, method: event.method, path: event.path, count: 0, ok: 0, failed: 0, best: Infinity, worst: 0, last: 0 };
      this.#rows.set(key, row);
    }
    row.count++;
    if (event.failed) row.failed++;
    else if (event.outcome !== 'cancelled') row.ok++;
    row.best = Math.min(row.best, event.latencyMs);
    row.worst = Math.max(row.worst, event.latencyMs);
    row.last = event.latencyMs;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** The `limit` busiest rows. */
  top(limit: number): TopRow[] {
    return [...this.#rows.values()].sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1)).slice(0, limit);
  }

  render(limit: number): string[] {
    const ms = (value: number): string => latency(value / 1000);
    return table([
      ['SOURCE', 'DESTINATION', 'METHOD', 'PATH', 'COUNT', 'BEST', 'WORST', 'LAST', 'SUCCESS'],
      ...this.top(limit).map((row) => [
        row.source, row.destination, row.method, row.path, String(row.count), ms(row.best), ms(row.worst), ms(row.last),
        percent(row.ok + row.failed > 0 ? row.ok / (row.ok + row.failed) : null),
      ]),
    ]);
  }

  #forgetQuietest(): void {
    let quietest: [string, TopRow] | null = null;
    for (const entry of this.#rows) if (quietest === null || entry[1].count < quietest[1].count) quietest = entry;
    if (quietest !== null) this.#rows.delete(quietest[0]);
  }
}
