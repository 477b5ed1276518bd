/** The Telemetry the proxies report to: every record feeds the metrics and, sampled, the access log. */
import type { AccessLog } from './access-log.js';
import type { MeshMetrics } from './metrics.js';
import type { ConnectionRecord, RequestRecord, Telemetry } from './types.js';

export class TelemetrySink implements Telemetry {
  readonly #metrics: MeshMetrics;
  readonly #accessLog: AccessLog;

  constructor(metrics: MeshMetrics, accessLog: AccessLog) {
    this.#metrics = metrics;
    this.#accessLog = accessLog;
  }

  request(record: RequestRecord): void {
    this.#metrics.request(record);
    this.#accessLog.request(record);
  }

  connection(record: ConnectionRecord): void {
    this.#metrics.connection(record);
    this.#accessLog.connection(record);
  }
}
