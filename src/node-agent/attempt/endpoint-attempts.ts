/**
 * The attempt controller's core, shared by HTTP/1.1, h2c and TCP: one exchange (a request, an
 * h2 stream, a TCP connection) tries the endpoints of its backend one attempt at a time.
 *
 * The layers, outermost first, as each protocol composes them:
 *
 *   admission  authorize, rate limit, route → a backend  (`http/admission.ts`; TCP: at accept)
 *   timeout    the request's deadline, and each attempt's (`http/http-exchange.ts`; TCP: connect)
 *   retry      after a failed attempt, another one while the protocol's rule allows it
 *   attempt    the load balancer's endpoint, never one already tried while another is left
 *   breaker    every attempt is opened (`begin`) and closed with its outcome (`end(failed)`)
 *   log        one record per exchange (`http/request-log.ts`; TCP: its connection record)
 *
 * This class holds the attempt, retry and breaker layers. It is a base class rather than an
 * object of its own so an exchange costs one allocation, not one per layer: the protocol
 * classes extend it and add what sending an attempt means for them.
 */
import type { BackendRuntime, EndpointRuntime } from '../runtime/types.js';

export abstract class EndpointAttempts {
  /** The backend every attempt picks from (null until admitted). */
  protected backend: BackendRuntime | null = null;
  /** The endpoint of the attempt in progress (null between attempts). */
  protected endpoint: EndpointRuntime | null = null;
  /** Attempts after the first. */
  protected retries = 0;
  /** Endpoints of failed attempts: not picked again while another one is left. */
  #tried: Set<EndpointRuntime> | null = null;

  /**
   * The endpoint for the next attempt, opened in the circuit breaker; null when the backend has
   * none ready.
   */
  protected nextEndpoint(): EndpointRuntime | null {
    const endpoint = this.pickEndpoint();
    if (endpoint !== null) this.beginAttempt(endpoint);
    return endpoint;
  }

  /** The load balancer's choice for the next attempt, not opened yet. */
  protected pickEndpoint(): EndpointRuntime | null {
    return (this.backend as BackendRuntime).pickEndpoint(this.#tried ?? undefined);
  }

  /** Opens an attempt on `endpoint` (again, for a resend to the same one). */
  protected beginAttempt(endpoint: EndpointRuntime): void {
    this.endpoint = endpoint;
    endpoint.begin();
  }

  /** Closes the attempt in progress; the circuit breaker counts it as failed when `failed`. */
  protected endAttempt(failed: boolean): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    this.endpoint = null;
    endpoint.end(failed);
  }

  /** A retry after the attempt on `failed`: counted, and `failed` is set aside. */
  protected countRetry(failed: EndpointRuntime): void {
    this.#tried ??= new Set();
    this.#tried.add(failed);
    this.retries++;
  }

  /** Whether `endpoint` has failed an attempt of this exchange. */
  protected hasTried(endpoint: EndpointRuntime): boolean {
    return this.#tried?.has(endpoint) === true;
  }
}
