/**
 * The outcome class of one HTTP request (the `outcome` label of the request metrics): a small
 * fixed set, so success rates per edge come straight out of Prometheus. From the status sent to
 * the client and, for the agent's own answers, its reason.
 */
export const REQUEST_OUTCOMES = ['success', 'client_error', 'server_error', 'denied', 'rate_limited', 'cancelled'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/**
 * Outcomes that count against the success rate. `client_error` (4xx from the endpoint or a
 * malformed request) is the caller's doing and counts as a success, as in Linkerd; `cancelled`
 * (the client left before a status) counts neither way.
 */
export const FAILED_OUTCOMES: readonly RequestOutcome[] = ['server_error', 'denied', 'rate_limited'];

/** `reason` is the agent's reason when it answered itself ('' when the endpoint answered). */
export function requestOutcome(status: number, reason: string): RequestOutcome {
  if (status === 0) return 'cancelled';
  if (status >= 500) return 'server_error';
  if (reason === 'forbidden') return 'denied';
  if (reason === 'rate-limited') return 'rate_limited';
  return status >= 400 ? 'client_error' : 'success';
}
