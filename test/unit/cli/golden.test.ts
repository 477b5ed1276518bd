/**
 * The golden-signal arithmetic of `plexus stat` / `top` / the dashboard on its own: Prometheus'
 * histogram_quantile, increases over a window summed over agents (with restarts), and rows with
 * success rates that leave cancelled requests out. Pure: scrapes are built from exposition text.
 */
import { expect } from 'chai';
import { byService, bySource, deltas, quantile, rows, scrapeOf, type SeriesDelta } from '../../../src/cli/observe/golden.js';

const BOUNDS = ['0.005', '0.01', '0.1', '1', '+Inf'] as const;

/** The exposition of one series: its request counter and cumulative buckets. */
function series(labels: string, requests: number, cumulative: readonly number[]): string {
  const lines = [`plexus_requests_total{${labels}} ${requests}`];
  BOUNDS.forEach((le, i) => lines.push(`plexus_request_duration_seconds_bucket{${labels},le="${le}"} ${cumulative[i]}`));
  return lines.join('\n');
}

const WEB_OK = 'destination_namespace="shop",destination_service="web",source_identity="shop/front",outcome="success"';
const WEB_5XX = 'destination_namespace="shop",destination_service="web",source_identity="shop/front",outcome="server_error"';
const WEB_GONE = 'destination_namespace="shop",destination_service="web",source_identity="unknown",outcome="cancelled"';
const API_OK = 'destination_namespace="shop",destination_service="api",source_identity="unknown",outcome="success"';

const buckets = (entries: ReadonlyArray<readonly [number, number]>): Map<number, number> => new Map(entries);

describe('golden signals: quantile', () => {
  it('is null without observations', () => {
    expect(quantile(0.5, buckets([]))).to.equal(null);
    expect(quantile(0.5, buckets([[0.1, 0], [Infinity, 0]]))).to.equal(null);
  });

  it('interpolates linearly inside the bucket the rank falls in, from 0 for the first', () => {
    // 10 observations, all at or under 0.1: the median rank 5 is half way into (0, 0.1].
    expect(quantile(0.5, buckets([[0.1, 10], [1, 10], [Infinity, 10]]))).to.be.closeTo(0.05, 1e-12);
    // 4 under 0.01, 6 more under 0.1: rank 5 (q 0.5) is 1/6 of the way into (0.01, 0.1].
    expect(quantile(0.5, buckets([[0.01, 4], [0.1, 10], [Infinity, 10]]))).to.be.closeTo(0.01 + 0.09 / 6, 1e-12);
    // Rank exactly on a bound: that bound.
    expect(quantile(0.4, buckets([[0.01, 4], [0.1, 10], [Infinity, 10]]))).to.be.closeTo(0.01, 1e-12);
  });

  it('takes the buckets in bound order, whatever order they come in', () => {
    expect(quantile(0.5, buckets([[Infinity, 10], [0.1, 10], [0.01, 4]]))).to.be.closeTo(0.01 + 0.09 / 6, 1e-12);
  });

  it('answers the highest finite bound when the rank falls in +Inf, as Prometheus does', () => {
    expect(quantile(0.99, buckets([[0.1, 5], [1, 5], [Infinity, 10]]))).to.equal(1);
  });

  it('skips empty buckets below the rank', () => {
    // Nothing between 0.01 and 0.1: the p95 lies in (0.1, 1].
    expect(quantile(0.95, buckets([[0.01, 5], [0.1, 5], [1, 10], [Infinity, 10]]))).to.be.closeTo(0.1 + 0.9 * 0.9, 1e-12);
  });
});

describe('golden signals: increases over a window', () => {
  it('subtracts the scrape before from the scrape after, per series and bucket, summed over agents', () => {
    const before = [
      scrapeOf('a', 0, series(WEB_OK, 10, [2, 5, 10, 10, 10])),
      scrapeOf('b', 0, series(WEB_OK, 1, [1, 1, 1, 1, 1])),
    ];
    const after = [
      scrapeOf('a', 10_000, series(WEB_OK, 30, [2, 15, 30, 30, 30])),
      scrapeOf('b', 10_000, series(WEB_OK, 6, [1, 6, 6, 6, 6])),
    ];
    const [only, ...more] = deltas(before, after);
    expect(more).to.deep.equal([]);
    expect(only!.labels).to.deep.equal({ destination_namespace: 'shop', destination_service: 'web', source_identity: 'shop/front', outcome: 'success' });
    expect(only!.requests).to.equal(25);
    expect([...only!.buckets]).to.deep.equal([[0.005, 0], [0.01, 15], [0.1, 25], [1, 25], [Infinity, 25]]);
  });

  it('counts a restarted agent (its counters went down) from zero, and a new series whole', () => {
    const before = [scrapeOf('a', 0, series(WEB_OK, 100, [100, 100, 100, 100, 100]))];
    const after = [scrapeOf('a', 10_000, `${series(WEB_OK, 7, [7, 7, 7, 7, 7])}\n${series(API_OK, 3, [0, 0, 3, 3, 3])}`)];
    const found = deltas(before, after);
    expect(found.map((d) => [d.labels.destination_service, d.requests])).to.deep.equal([['web', 7], ['api', 3]]);
  });

  it('leaves out an agent that has no scrape before the window (no baseline)', () => {
    const before = [scrapeOf('a', 0, series(WEB_OK, 1, [1, 1, 1, 1, 1]))];
    const after = [scrapeOf('a', 10_000, series(WEB_OK, 2, [2, 2, 2, 2, 2])), scrapeOf('new', 10_000, series(WEB_OK, 500, [500, 500, 500, 500, 500]))];
    expect(deltas(before, after).map((d) => d.requests)).to.deep.equal([1]);
  });

  it('reads escaped label values and ignores other metrics', () => {
    const odd = 'destination_namespace="shop",destination_service="web",source_identity="a\\"b",outcome="success"';
    const text = `# HELP x\nprocess_cpu_seconds_total 5\n${series(odd, 4, [4, 4, 4, 4, 4])}`;
    const [only] = deltas([scrapeOf('a', 0, '')].map((s) => ({ ...s, samples: [] })), [scrapeOf('a', 1, text)]);
    expect(only!.labels.source_identity).to.equal('a"b');
    expect(only!.requests).to.equal(4);
  });
});

describe('golden signals: rows', () => {
  // Every series has every bucket, as the agents expose them.
  const window: SeriesDelta[] = [
    { labels: { destination_namespace: 'shop', destination_service: 'web', source_identity: 'shop/front', outcome: 'success' }, requests: 90, buckets: buckets([[0.1, 90], [1, 90], [Infinity, 90]]) },
    { labels: { destination_namespace: 'shop', destination_service: 'web', source_identity: 'shop/front', outcome: 'server_error' }, requests: 10, buckets: buckets([[0.1, 0], [1, 10], [Infinity, 10]]) },
    { labels: { destination_namespace: 'shop', destination_service: 'web', source_identity: 'unknown', outcome: 'cancelled' }, requests: 5, buckets: buckets([[0.1, 5], [1, 5], [Infinity, 5]]) },
    { labels: { destination_namespace: 'shop', destination_service: 'api', source_identity: 'unknown', outcome: 'client_error' }, requests: 20, buckets: buckets([[0.01, 20], [Infinity, 20]]) },
  ];

  it('per Service: requests, rate, success rate without cancelled requests, client errors as successes, busiest first', () => {
    const [web, api, ...more] = rows(window, 10, byService);
    expect(more).to.deep.equal([]);
    expect(web).to.include({ key: 'shop/web', requests: 105, rps: 10.5, successRate: 0.9, failed: 10 });
    expect(api).to.include({ key: 'shop/api', requests: 20, rps: 2, successRate: 1, failed: 0 });
    // Latency counts every request, cancelled ones too: 105 observations, 95 under 0.1, 10 in (0.1, 1].
    expect(web!.p50).to.be.closeTo(0.1 * 52.5 / 95, 1e-12);
    expect(web!.p99).to.be.closeTo(0.1 + 0.9 * (103.95 - 95) / 10, 1e-12);
  });

  it('per caller, and a row of only cancelled requests has no success rate', () => {
    const byCaller = rows(window.filter((d) => d.labels.destination_service === 'web'), 10, bySource);
    expect(byCaller.map((row) => [row.key, row.successRate])).to.deep.equal([['shop/front', 0.9], ['unknown', null]]);
  });

  it('leaves out series the key function drops, and a zero window has no rate', () => {
    const onlyApi = rows(window, 0, (labels) => (labels.destination_service === 'api' ? 'api' : null));
    expect(onlyApi.map((row) => [row.key, row.rps])).to.deep.equal([['api', 0]]);
  });

  it('orders rows of equal traffic by key', () => {
    const even = ['b', 'a', 'c'].map((name) => ({ labels: { destination_namespace: 'x', destination_service: name, outcome: 'success' }, requests: 1, buckets: buckets([]) }));
    expect(rows(even, 1, byService).map((row) => row.key)).to.deep.equal(['x/a', 'x/b', 'x/c']);
  });
});

// WEB_5XX and WEB_GONE shapes are what the agents expose for failed and cancelled requests.
describe('golden signals: from exposition to rows', () => {
  it('reads failed and cancelled series as the agents expose them', () => {
    const before = [scrapeOf('a', 0, [series(WEB_OK, 0, [0, 0, 0, 0, 0]), series(WEB_5XX, 0, [0, 0, 0, 0, 0]), series(WEB_GONE, 0, [0, 0, 0, 0, 0])].join('\n'))];
    const after = [scrapeOf('a', 5000, [series(WEB_OK, 3, [3, 3, 3, 3, 3]), series(WEB_5XX, 1, [0, 0, 1, 1, 1]), series(WEB_GONE, 2, [0, 0, 0, 0, 2])].join('\n'))];
    const [web] = rows(deltas(before, after), 5, byService);
    expect(web).to.include({ key: 'shop/web', requests: 6, failed: 1, successRate: 0.75 });
  });
});
