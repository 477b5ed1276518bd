/**
 * Golden signals from the agents' own /metrics, no Prometheus needed: two scrapes of every agent
 * a window apart give, per row (a Service, a caller → Service edge, a backend), the requests
 * served in between, the success rate and latency percentiles, the way `linkerd viz stat`
 * shows them. Pure: scraping is the caller's.
 */
import { FAILED_OUTCOMES, type RequestOutcome } from '../../node-agent/telemetry/outcome.js';
import { parseSamples, type Sample } from './prom-text.js';

const REQUESTS = 'plexus_requests_total';
const BUCKETS = 'plexus_request_duration_seconds_bucket';
export const GOLDEN_METRICS: ReadonlySet<string> = new Set([REQUESTS, BUCKETS]);

/** One agent's request series at one instant. */
export interface Scrape {
  readonly agent: string;
  readonly at: number;
  readonly samples: readonly Sample[];
}

export function scrapeOf(agent: string, at: number, text: string): Scrape {
  return { agent, at, samples: parseSamples(text, GOLDEN_METRICS) };
}

/** What happened to one request series between two scrapes. */
export interface SeriesDelta {
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: number;
  /** `le` bound → observations at or under it, in the window (cumulative, as in the exposition). */
  readonly buckets: ReadonlyMap<number, number>;
}

function seriesId(sample: Sample): string {
  const { le: _bucket, ...labels } = sample.labels;
  return Object.keys(labels).sort().map((key) => `${key}=${labels[key]}`).join('\0');
}

function increase(before: number | undefined, after: number): number {
  // A value that went down is a restarted agent: its counters began again from zero.
  return before === undefined || after < before ? after : after - before;
}

/**
 * The increase of every request series over the window, summed over agents. An agent missing
 * from `before` (it appeared during the window) has no baseline and is left out.
 */
export function deltas(before: readonly Scrape[], after: readonly Scrape[]): SeriesDelta[] {
  const out = new Map<string, { labels: Record<string, string>; requests: number; buckets: Map<number, number> }>();
  for (const scrape of after) {
    const base = before.find((b) => b.agent === scrape.agent);
    if (base === undefined) continue;
    const old = new Map(base.samples.map((s) => [`${s.name}\0${s.labels.le ?? ''}\0${seriesId(s)}`, s.value]));
    for (const sample of scrape.samples) {
      const id = seriesId(sample);
      const grown = increase(old.get(`${sample.name}\0${sample.labels.le ?? ''}\0${id}`), sample.value);
      let entry = out.get(id);
      if (entry === undefined) {
        const { le: _bucket, ...labels } = sample.labels;
        entry = { labels, requests: 0, buckets: new Map() };
        out.set(id, entry);
      }
      if (sample.name === REQUESTS) entry.requests += grown;
      else {
        const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
        entry.buckets.set(le, (entry.buckets.get(le) ?? 0) + grown);
      }
    }
  }
  return [...out.values()];
}

export interface GoldenRow {
  readonly key: string;
  readonly requests: number;
  /** Requests per second over the window. */
  readonly rps: number;
  /** Null without a request that counts (every one cancelled, or none). */
  readonly successRate: number | null;
  readonly failed: number;
  /** Seconds; null without requests. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Groups the window's series by `keyOf` (null = leave the series out) into rows, busiest first. */
export function rows(series: readonly SeriesDelta[], windowSeconds: number, keyOf: (labels: Readonly<Record<string, string>>) => string | null): GoldenRow[] {
  const groups = new Map<string, { requests: number; ok: number; failed: number; buckets: Map<number, number> }>();
  for (const s of series) {
    const key = keyOf(s.labels);
    if (key === null) continue;
    let group = groups.get(key);
    if (group === undefined) {
      group = { requests: 0, ok: 0, failed: 0, buckets: new Map() };
      groups.set(key, group);
    }
    const outcome = s.labels.outcome as RequestOutcome;
    group.requests += s.requests;
    if (FAILED_OUTCOMES.includes(outcome)) group.failed += s.requests;
    else if (outcome !== 'cancelled') group.ok += s.requests;
    for (const [le, count] of s.buckets) group.buckets.set(le, (group.buckets.get(le) ?? 0) + count);
  }
  const result: GoldenRow[] = [];
  for (const [key, group] of groups) {
    const counted = group.ok + group.failed;
    result.push({
      key,
      requests: group.requests,
      rps: windowSeconds > 0 ? group.requests / windowSeconds : 0,
      successRate: counted > 0 ? group.ok / counted : null,
      failed: group.failed,
      p50: quantile(0.5, group.buckets),
      p95: quantile(0.95, group.buckets),
      p99: quantile(0.99, group.buckets),
    });
  }
  return result.sort((a, b) => b.requests - a.requests || (a.key < b.key ? -1 : 1));
}

/**
 * Prometheus' histogram_quantile over cumulative buckets: linear interpolation inside the bucket
 * the rank falls in; the highest finite bound when it falls in +Inf.
 */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const sorted = [...buckets.entries()].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      if (count === lowerCount) return bound;
      return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

export const byService = (labels: Readonly<Record<string, string>>): string => `${labels.destination_namespace}/${labels.destination_service}`;
export const bySource = (labels: Readonly<Record<string, string>>): string => labels.source_identity ?? 'unknown';
