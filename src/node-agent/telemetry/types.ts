/**
 * What the proxies report: one record per HTTP request (or h2 stream) and per TCP connection /
 * UDP flow. The telemetry sink turns records into Prometheus metrics (bounded labels: no pod IPs,
 * no paths) and access-log lines.
 */
/** Who called which Service, and who answered: what a request's and a connection's record share. */
export interface FlowParties {
  /** '' when the caller is not a known pod. */
  readonly sourceNamespace: string;
  /** `namespace/serviceAccount`, or null for an unknown caller. */
  readonly sourceIdentity: string | null;
  readonly sourceIp: string;
  readonly destinationNamespace: string;
  readonly destinationService: string;
  readonly destinationPort: number;
  /** The backend Service that served it (a split backend or the Service itself), if any. */
  readonly backend: string | null;
  /** `ip:port` of the endpoint that answered (logs only, never a metric label). */
  readonly endpoint: string | null;
}

export interface RequestRecord extends FlowParties {
  readonly protocol: 'http' | 'h2c' | 'websocket';
  readonly method: string;
  readonly path: string;
  /** HTTP status sent to the client; 0 when the client went away before a status was sent. */
  readonly status: number;
  readonly durationSeconds: number;
  readonly retries: number;
  /** Why the proxy answered itself (403, 429, 503, 504...), '' when the upstream answered. */
  readonly reason: string;
  /** `x-request-id`: the client's, or the one the agent added; '' when the request was refused before its head was read. */
  readonly requestId: string;
  /** The W3C `traceparent` (or B3) trace id, '' when the request carries none. */
  readonly traceId: string;
}

export interface ConnectionRecord extends FlowParties {
  readonly protocol: 'tcp' | 'udp';
  /** 'closed' (normal end), 'denied' (ACL), 'no-endpoint', 'error', 'idle-timeout'. */
  readonly outcome: 'closed' | 'denied' | 'no-endpoint' | 'error' | 'idle-timeout';
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationSeconds: number;
}

/**
 * One Gateway API RequestMirror copy: sent and answered (whatever the status), or why not.
 * `overloaded`: too many copies already in flight; `too-large`: the request body was larger than
 * the replay limit, so no whole copy was kept; `no-endpoint`: the mirror Service has no ready one.
 */
export type MirrorOutcome = 'answered' | 'failed' | 'timeout' | 'overloaded' | 'too-large' | 'no-endpoint';

export interface MirrorRecord {
  /** The mirror's Service (a metric label, as a request's destination). */
  readonly destinationNamespace: string;
  readonly destinationService: string;
  readonly outcome: MirrorOutcome;
}

export interface Telemetry {
  request(record: RequestRecord): void;
  connection(record: ConnectionRecord): void;
  mirror(record: MirrorRecord): void;
}
