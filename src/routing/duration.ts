/**
 * Go-style durations (`time.ParseDuration`): a sequence of decimal numbers, each with a unit,
 * e.g. `2s`, `500ms`, `1m30s`, `1.5s`. Units: ns, us (µs), ms, s, m, h. A bare `0` is allowed.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or null when `text` is not a duration. Negative durations are not accepted. */
export function parseDurationMs(text: string): number | null {
  if (text === '0') return 0;
  if (text === '') return null;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const at = TERM.lastIndex;
    const term = TERM.exec(text);
    if (!term || term.index !== at) return null;
    total += Number(term[1]) * (UNIT_MS[term[2]!] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : null;
}
