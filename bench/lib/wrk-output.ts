/**
 * Parses what `wrk --latency` prints (pure). wrk 4.x prints durations with a unit (`us`, `ms`,
 * `s`, `m`, `h`) and counts with an SI suffix (`k`, `M`, `G`) in its thread table, and plain
 * numbers in the summary lines, which are the ones read here.
 */

export interface WrkLatency {
  readonly avgMs: number;
  readonly maxMs: number;
  /** From the `Latency Distribution` block; null when wrk ran without `--latency`. */
  readonly p50Ms: number | null;
  readonly p75Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
}

export interface WrkSocketErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly requestsPerSec: number;
  readonly latency: WrkLatency;
  /** Responses with a status outside 2xx/3xx. */
  readonly non2xx: number;
  readonly socketErrors: WrkSocketErrors;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `812.00us` / `1.23ms` / `2.00s` / `1.00m` → milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`wrk output: "${text}" is not a duration`);
  return Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
}

export function parseWrkOutput(text: string): WrkResult {
  const total = /^\s*(\d+) requests in ([\d.]+\w+), /m.exec(text);
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const latency = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  if (!total || !rate || !latency) throw new Error(`wrk output not understood:\n${text.trim()}`);
  const non2xx = /^\s*Non-2xx or 3xx responses:\s+(\d+)/m.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    durationS: parseWrkDuration(total[2] as string) / 1000,
    requestsPerSec: Number(rate[1]),
    latency: {
      avgMs: parseWrkDuration(latency[1] as string),
      maxMs: parseWrkDuration(latency[3] as string),
      p50Ms: distributionPoint(text, 50),
      p75Ms: distributionPoint(text, 75),
      p90Ms: distributionPoint(text, 90),
      p99Ms: distributionPoint(text, 99),
    },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: socket ? Number(socket[1]) : 0,
      read: socket ? Number(socket[2]) : 0,
      write: socket ? Number(socket[3]) : 0,
      timeout: socket ? Number(socket[4]) : 0,
    },
  };
}

/** All failures wrk counted: non-2xx/3xx responses and socket errors. */
export function wrkErrors(result: WrkResult): number {
  const s = result.socketErrors;
  return result.non2xx + s.connect + s.read + s.write + s.timeout;
}

function distributionPoint(text: string, p: number): number | null {
  const block = text.split(/^\s*Latency Distribution.*$/m)[1];
  if (block === undefined) return null;
  const match = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(block);
  return match ? parseWrkDuration(match[1] as string) : null;
}
