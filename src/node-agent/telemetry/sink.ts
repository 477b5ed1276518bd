/**
 * The Telemetry the proxies report to: every record feeds the metrics and, sampled, the access
 * log; request records also go to the live taps while anyone watches.
 */
import type { AccessLog } from './access-log.js';
import type { MeshMetrics } from './metrics.js';
import type { TapHub } from './tap.js';
import type { ConnectionRecord, MirrorRecord, RequestRecord, Telemetry } from './types.js';

export class TelemetrySink implements Telemetry {
  readonly #metrics: MeshMetrics;
  readonly #accessLog: AccessLog;
  readonly #tap: TapHub;

  constructor(metrics: MeshMetrics, accessLog: AccessLog, tap: TapHub) {
    this.#metrics = metrics;
    this.#accessLog = accessLog;
    this.#tap = tap;
  }

  request(record: RequestRecord): void {
    this.#metrics.request(record);
    this.#accessLog.request(record);
    if (this.#tap.watching) this.#tap.publish(record);
  }

  connection(record: ConnectionRecord): void {
    this.#metrics.connection(record);
    this.#accessLog.connection(record);
  }

  mirror(record: MirrorRecord): void {
    this.#metrics.mirror(record);
  }
}
