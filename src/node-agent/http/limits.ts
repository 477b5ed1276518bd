/** Limits that protect the node from slow or oversized HTTP clients. */
export interface HttpLimits {
  /** Largest request head (request line + header fields, and a chunked body's trailers) → 431. */
  readonly maxHeaderBytes: number;
  /** Time a client has to send a complete request head once it opened a connection or began one → 408. */
  readonly headersTimeoutMs: number;
  /** How long a keep-alive client connection may sit idle between requests before it is closed. */
  readonly keepAliveTimeoutMs: number;
  /** How long a request body may stall (no bytes from the client) before the connection is closed. */
  readonly bodyIdleTimeoutMs: number;
  /** Request bodies up to this size that arrive with their head are held, so they can be retried. */
  readonly maxReplayBodyBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 60_000,
  bodyIdleTimeoutMs: 60_000,
  maxReplayBodyBytes: 64 * 1024,
});
