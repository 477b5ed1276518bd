/**
 * The agent's Prometheus metrics, in a private registry (never prom-client's global one, so
 * several agents can live in one process and tests see only their own counts).
 *
 * Labels are bounded: namespaces, Service names and ports come from the applied config, source
 * identities from the ServiceAccounts of known pods (else "unknown"), status codes and outcomes
 * from small fixed sets. No pod IPs, no paths. When a reload removes a Service,
 * `retainDestinations` drops every series that names it.
 */
import { registerProcessMetrics } from './process-metrics.js';
import { Counter, Gauge, Registry } from './prom.js';
import { REQUEST_LABELS, RequestSeriesTable, SeriesHistogram } from './request-series.js';
import type { ConnectionRecord, MirrorRecord, RequestRecord } from './types.js';

/** Sub-millisecond resolution at the low end: a proxy's own latency is measured in hundreds of µs. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const DESTINATION_LABELS = ['destination_namespace', 'destination_service'] as const;
const CONNECTION_LABELS = ['source_namespace', ...DESTINATION_LABELS, 'outcome'] as const;
const BYTES_LABELS = [...DESTINATION_LABELS, 'direction'] as const;
const MIRROR_LABELS = [...DESTINATION_LABELS, 'outcome'] as const;

type LabelSet = Partial<Record<string, string | number>>;

export class MeshMetrics {
  readonly registry = new Registry();
  /** Requests are counted here on the hot path and published at scrape (see request-series.ts). */
  readonly #requestSeries = new RequestSeriesTable(DURATION_BUCKETS);
  readonly #requests: Counter<(typeof REQUEST_LABELS)[number]>;
  readonly #retries: Counter<(typeof DESTINATION_LABELS)[number]>;
  readonly #tcpConnections: Counter<(typeof CONNECTION_LABELS)[number]>;
  readonly #tcpBytes: Counter<(typeof BYTES_LABELS)[number]>;
  readonly #udpFlows: Counter<(typeof CONNECTION_LABELS)[number]>;
  readonly #udpBytes: Counter<(typeof BYTES_LABELS)[number]>;
  readonly #mirrors: Counter<(typeof MIRROR_LABELS)[number]>;
  readonly #generation: Gauge;
  readonly #problems: Gauge<'severity'>;
  readonly #listeners: Gauge<'traffic_type'>;
  readonly #providerHealthy: Gauge;

  constructor() {
    const registers = [this.registry];
    const requestSeries = this.#requestSeries;
    this.#requests = new Counter({
      name: 'plexus_requests_total', help: 'HTTP requests (and h2c streams) proxied, by final status.',
      labelNames: REQUEST_LABELS, registers,
      collect(this: Counter<(typeof REQUEST_LABELS)[number]>) {
        for (const series of requestSeries.series) {
          if (series.unpublished === 0) continue;
          this.inc(series.labels, series.unpublished);
          series.unpublished = 0;
        }
      },
    });
    // Registers itself and reads the table at scrape; nothing else talks to it.
    new SeriesHistogram({
      name: 'plexus_request_duration_seconds', help: 'Time from request start to the end of the response.', registry: this.registry,
    }, requestSeries);
    this.#retries = new Counter({
      name: 'plexus_retries_total', help: 'Retries sent to another attempt after a failed one.',
      labelNames: DESTINATION_LABELS, registers,
    });
    this.#tcpConnections = new Counter({
      name: 'plexus_tcp_connections_total', help: 'TCP connections proxied, by outcome.',
      labelNames: CONNECTION_LABELS, registers,
    });
    this.#tcpBytes = new Counter({
      name: 'plexus_tcp_bytes_total', help: 'TCP payload bytes: in = client to service, out = service to client.',
      labelNames: BYTES_LABELS, registers,
    });
    this.#udpFlows = new Counter({
      name: 'plexus_udp_flows_total', help: 'UDP flows (one per client address) relayed, by outcome.',
      labelNames: CONNECTION_LABELS, registers,
    });
    this.#udpBytes = new Counter({
      name: 'plexus_udp_bytes_total', help: 'UDP payload bytes: in = client to service, out = service to client.',
      labelNames: BYTES_LABELS, registers,
    });
    this.#mirrors = new Counter({
      name: 'plexus_mirrored_requests_total', help: 'Gateway API RequestMirror copies, by mirror Service and outcome (answered, or why not).',
      labelNames: MIRROR_LABELS, registers,
    });
    this.#generation = new Gauge({
      name: 'plexus_config_generation', help: 'Generation of the applied config (1 = first apply).', registers,
    });
    this.#problems = new Gauge({
      name: 'plexus_config_problems', help: 'Problems in the applied config plus agent problems (e.g. a port that cannot be bound).',
      labelNames: ['severity'], registers,
    });
    this.#listeners = new Gauge({
      name: 'plexus_listeners', help: 'Listeners currently accepting traffic.', labelNames: ['traffic_type'], registers,
    });
    this.#providerHealthy = new Gauge({
      name: 'plexus_provider_healthy', help: '1 while the config provider (file or Kubernetes) is healthy.', registers,
    });
    registerProcessMetrics(this.registry);
  }

  request(record: RequestRecord): void {
    this.#requestSeries.record(record);
    if (record.retries > 0) {
      this.#retries.inc({
        destination_namespace: record.destinationNamespace, destination_service: record.destinationService,
      }, record.retries);
    }
  }

  connection(record: ConnectionRecord): void {
    const [count, bytes] = record.protocol === 'tcp'
      ? [this.#tcpConnections, this.#tcpBytes]
      : [this.#udpFlows, this.#udpBytes];
    count.inc({
      source_namespace: record.sourceNamespace,
      destination_namespace: record.destinationNamespace,
      destination_service: record.destinationService,
      outcome: record.outcome,
    });
    const destination = {
      destination_namespace: record.destinationNamespace, destination_service: record.destinationService,
    };
    if (record.bytesIn > 0) bytes.inc({ ...destination, direction: 'in' }, record.bytesIn);
    if (record.bytesOut > 0) bytes.inc({ ...destination, direction: 'out' }, record.bytesOut);
  }

  mirror(record: MirrorRecord): void {
    this.#mirrors.inc({
      destination_namespace: record.destinationNamespace, destination_service: record.destinationService, outcome: record.outcome,
    });
  }

  setGeneration(generation: number): void {
    this.#generation.set(generation);
  }

  setProblems(counts: { readonly error: number; readonly warning: number }): void {
    this.#problems.set({ severity: 'error' }, counts.error);
    this.#problems.set({ severity: 'warning' }, counts.warning);
  }

  setListeners(byTrafficType: ReadonlyMap<string, number>): void {
    this.#listeners.reset();
    for (const [trafficType, count] of byTrafficType) this.#listeners.set({ traffic_type: trafficType }, count);
  }

  setProviderHealthy(healthy: boolean): void {
    this.#providerHealthy.set(healthy ? 1 : 0);
  }

  /** Drops every series whose destination is not one of `live` (`namespace/name` keys). */
  async retainDestinations(live: ReadonlySet<string>): Promise<void> {
    this.#requestSeries.retain(live);
    const perDestination = [
      this.#requests, this.#retries,
      this.#tcpConnections, this.#tcpBytes, this.#udpFlows, this.#udpBytes, this.#mirrors,
    ];
    for (const metric of perDestination) {
      const { values } = await metric.get();
      const stale = new Map<string, LabelSet>();
      for (const { labels } of values) {
        const key = `${labels.destination_namespace}/${labels.destination_service}`;
        if (live.has(key)) continue;
        // Histograms report one value per bucket (`le`) and `_sum`/`_count`: remove the series once.
        const { le: _bucket, ...series } = labels as LabelSet;
        stale.set(JSON.stringify(series), series);
      }
      for (const series of stale.values()) (metric as Counter<string>).remove(series as Record<string, string>);
    }
  }
}
