/** Limits that protect the node from slow or oversized HTTP clients. */
export interface HttpLimits {
  /** Largest request head (request line + header fields, and a chunked body's trailers) → 431. */
  readonly maxHeaderBytes: number;
  /** Time a client has to send a complete request head once it opened a connection or began one → 408. */
  readonly headersTimeoutMs: number;
  /**
   * How long a client connection may see no bytes either way before it is closed: idle between
   * requests, or a stalled request body. (Waiting for an endpoint is bounded by the policy timeout.)
   */
  readonly keepAliveTimeoutMs: number;
  /** Request bodies up to this size that arrive with their head are held, so they can be retried. */
  readonly maxReplayBodyBytes: number;
  /**
   * The mesh-wide default timeout (`--request-timeout`), for Services without
   * `plexus.dev/timeout`: how long the endpoint has, once the whole request was received from
   * the client, to send its response head (every attempt and retry included) → 504. A response
   * body, a stream or a WebSocket that has begun is not bounded by it. 0 = none.
   */
  readonly requestTimeoutMs: number;
  /**
   * Gateway API RequestMirror copies in flight at once, for the whole agent: past it a copy is
   * dropped (counted), so a slow mirror Service never piles up connections or memory.
   */
  readonly maxMirrorsInFlight: number;
  /** How long a mirror copy may take, its response included; then it is cancelled (counted). */
  readonly mirrorTimeoutMs: number;
}

/** As Envoy's default route timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 60_000,
  maxReplayBodyBytes: 64 * 1024,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  maxMirrorsInFlight: 256,
  mirrorTimeoutMs: 10_000,
});
