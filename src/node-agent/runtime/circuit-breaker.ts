/**
 * Per-endpoint health, shared by every runtime built from the same state (it survives reloads,
 * keyed by backend Service + `ip:port`), and the consecutive-failures circuit breaker over it.
 *
 * After `consecutiveErrors` failures in a row the endpoint is ejected for `ejectionMs`; a success
 * resets the count. When the ejection ends the endpoint is half-open: its next result decides,
 * and a single failure ejects it again. The caller says whether ejecting is allowed, so the last
 * usable endpoint of a backend is never ejected.
 */
import type { CircuitBreakerPolicy } from '../../routing/mesh-config.js';

export class EndpointHealth {
  /** Requests/connections in flight, across every runtime that shares this endpoint. */
  active = 0;
  #consecutiveFailures = 0;
  #ejectedUntil = Number.NEGATIVE_INFINITY;
  #halfOpen = false;

  /** True from an ejection until a check finds it over: pickers read the clock only then. */
  get ejectionRecorded(): boolean {
    return this.#ejectedUntil !== Number.NEGATIVE_INFINITY;
  }

  isEjected(now: number): boolean {
    if (now < this.#ejectedUntil) return true;
    this.#ejectedUntil = Number.NEGATIVE_INFINITY;
    return false;
  }

  recordSuccess(): void {
    this.#consecutiveFailures = 0;
    this.#halfOpen = false;
  }

  /**
   * Counts a failure; ejects when the policy's threshold is reached (or at once when half-open)
   * and `mayEject()` agrees. Failures reported while ejected (requests that were already in
   * flight) are ignored.
   */
  recordFailure(policy: CircuitBreakerPolicy | null, now: number, mayEject: () => boolean): void {
    if (policy === null || this.isEjected(now)) return;
    this.#consecutiveFailures++;
    const threshold = this.#halfOpen ? 1 : Math.max(1, policy.consecutiveErrors);
    if (this.#consecutiveFailures < threshold || !mayEject()) return;
    this.#ejectedUntil = now + Math.max(0, policy.ejectionMs);
    this.#consecutiveFailures = 0;
    this.#halfOpen = true;
  }
}
