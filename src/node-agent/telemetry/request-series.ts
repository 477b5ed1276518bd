/**
 * Per-request metrics kept in plain numbers and published to prom-client when scraped.
 *
 * prom-client hashes and validates the label set on every `inc` and `observe`; at tens of
 * thousands of requests per second that showed in profiles. Here a request costs one Map lookup
 * by a string key and a few additions. `plexus_requests_total` stays a prom-client Counter fed
 * by its `collect` hook; `plexus_request_duration_seconds` is a Histogram whose values come
 * straight from these series, in the exposition prom-client itself would produce.
 */
import { Histogram, type Registry } from './prom.js';
import { requestOutcome } from './outcome.js';
import type { RequestRecord } from './types.js';

/** The labels of both request metrics; docs/metrics.md states their bound. */
export const REQUEST_LABELS = [
  'source_namespace', 'source_identity', 'destination_namespace', 'destination_service', 'destination_port', 'destination_backend',
  'status_code', 'outcome',
] as const;
/** `source_identity` of a caller that is not a known pod. */
export const UNKNOWN_SOURCE = 'unknown';
export type RequestLabel = (typeof REQUEST_LABELS)[number];
export type RequestLabels = Record<RequestLabel, string>;

export class RequestSeries {
  /** Requests the prom-client counter has not been told about yet. */
  unpublished = 0;
  count = 0;
  sum = 0;
  /** Observations per bucket, not cumulative; the last slot is above every bound (+Inf). */
  readonly buckets: number[];

  constructor(readonly labels: RequestLabels, bucketCount: number) {
    this.buckets = new Array<number>(bucketCount + 1).fill(0);
  }
}

export class RequestSeriesTable {
  readonly bounds: readonly number[];
  readonly #series = new Map<string, RequestSeries>();

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
  }

  get series(): IterableIterator<RequestSeries> {
    return this.#series.values();
  }

  record(request: RequestRecord): void {
    const { sourceIdentity, destinationNamespace, destinationService, destinationPort, backend, status, reason } = request;
    const outcome = requestOutcome(status, reason);
    // NUL cannot occur in a namespace or name, so the key is unambiguous. The source namespace
    // follows from the identity.
    const key = `${sourceIdentity}\0${destinationNamespace}\0${destinationService}\0${destinationPort}\0${backend}\0${status}\0${outcome}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new RequestSeries({
        source_namespace: request.sourceNamespace,
        source_identity: sourceIdentity ?? UNKNOWN_SOURCE,
        destination_namespace: destinationNamespace,
        destination_service: destinationService,
        destination_port: String(destinationPort),
        destination_backend: backend ?? '',
        status_code: String(status),
        outcome,
      }, this.bounds.length);
      this.#series.set(key, series);
    }
    const seconds = request.durationSeconds;
    series.unpublished++;
    series.count++;
    series.sum += seconds;
    const bounds = this.bounds;
    let slot = 0;
    while (slot < bounds.length && seconds > (bounds[slot] as number)) slot++;
    series.buckets[slot] = (series.buckets[slot] as number) + 1;
  }

  /** Forgets every series whose destination `namespace/name` is not in `live`. */
  retain(live: ReadonlySet<string>): void {
    for (const [key, series] of this.#series) {
      if (!live.has(`${series.labels.destination_namespace}/${series.labels.destination_service}`)) this.#series.delete(key);
    }
  }
}

type HistogramData = Awaited<ReturnType<Histogram<RequestLabel>['get']>>;

/**
 * A Histogram that shows a RequestSeriesTable. Its own observe() is never used; the name, help,
 * type and aggregator come from prom-client (a template histogram), the values from the table.
 */
export class SeriesHistogram extends Histogram<RequestLabel> {
  readonly #table: RequestSeriesTable;
  readonly #name: string;
  readonly #template: Promise<HistogramData>;

  constructor(config: { readonly name: string; readonly help: string; readonly registry: Registry }, table: RequestSeriesTable) {
    const settings = { name: config.name, help: config.help, labelNames: REQUEST_LABELS, buckets: [...table.bounds] };
    super({ ...settings, registers: [] });
    this.#table = table;
    this.#name = config.name;
    this.#template = new Histogram({ ...settings, registers: [] }).get();
    config.registry.registerMetric(this);
  }

  override async get(): Promise<HistogramData> {
    return { ...(await this.#template), values: this.#values() };
  }

  /** What Registry#metrics() reads when a metric has it (prom-client's own Histogram does). */
  getForPromString(): Promise<HistogramData> {
    return this.get();
  }

  override reset(): void {
    // The table is the agent's record of what it served; nothing to reset here.
  }

  #values(): HistogramData['values'] {
    const values: HistogramData['values'] = [];
    const bucketName = `${this.#name}_bucket`;
    const bounds = this.#table.bounds;
    for (const series of this.#table.series) {
      // prom-client puts `le` first too.
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += series.buckets[i] as number;
        const labels = { le: bounds[i] as number, ...series.labels };
        values.push({ labels, value: cumulative, metricName: bucketName });
      }
      const infinity = { le: '+Inf', ...series.labels };
      values.push({ labels: infinity, value: series.count, metricName: bucketName });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.#name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.#name}_count` });
    }
    return values;
  }
}
