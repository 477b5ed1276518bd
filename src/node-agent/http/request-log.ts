/** Collects what one request did and reports it as exactly one RequestRecord. */
import type { AuthzResult, PortRuntime } from '../runtime/types.js';
import type { RequestRecord, Telemetry } from '../telemetry/types.js';

export class RequestLog {
  protocol: RequestRecord['protocol'];
  authz: AuthzResult | null = null;
  backend: string | null = null;
  endpoint: string | null = null;
  status = 0;
  retries = 0;
  reason = '';
  /** The request's `x-request-id`, as received or as added by the agent ('' before admission). */
  requestId = '';
  /** The W3C or B3 trace id the request carries, '' when none. */
  traceId = '';
  readonly #start = performance.now();
  #reported = false;

  constructor(
    protocol: RequestRecord['protocol'],
    readonly runtime: PortRuntime,
    readonly sourceIp: string,
    readonly method: string,
    readonly path: string,
  ) {
    this.protocol = protocol;
  }

  /** Sends the record; later calls do nothing. */
  report(telemetry: Telemetry): void {
    if (this.#reported) return;
    this.#reported = true;
    const identity = this.authz?.identity ?? null;
    telemetry.request({
      protocol: this.protocol,
      sourceNamespace: identity?.namespace ?? '',
      sourceIdentity: identity === null ? null : `${identity.namespace}/${identity.serviceAccount}`,
      sourceIp: this.sourceIp,
      destinationNamespace: this.runtime.service.namespace,
      destinationService: this.runtime.service.name,
      destinationPort: this.runtime.port.port,
      backend: this.backend,
      endpoint: this.endpoint,
      method: this.method,
      path: this.path,
      status: this.status,
      durationSeconds: (performance.now() - this.#start) / 1000,
      retries: this.retries,
      reason: this.reason,
      requestId: this.requestId,
      traceId: this.traceId,
    });
  }
}
