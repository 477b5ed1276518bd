/**
 * The checks every HTTP request (HTTP/1.1 or h2 stream) passes before it is forwarded, in order:
 * authorization of the caller, the destination's rate limit, then routing. Pure decisions over
 * the captured PortRuntime; the protocol handlers turn an answer into a response.
 */
import type { AuthzResult, BackendRuntime, HttpRequestInfo, PortRuntime } from '../runtime/types.js';
import { type LocalAnswer, forbidden, rateLimited, routeRejected } from './local-answers.js';

export type Admission =
  | { readonly kind: 'forward'; readonly authz: AuthzResult; readonly backend: BackendRuntime }
  | { readonly kind: 'answer'; readonly authz: AuthzResult; readonly answer: LocalAnswer };

export function admit(runtime: PortRuntime, sourceIp: string, request: HttpRequestInfo): Admission {
  const authz = runtime.authorize(sourceIp, request);
  if (!authz.allowed) return { kind: 'answer', authz, answer: forbidden(runtime, sourceIp, authz) };
  if (!runtime.tryAcquireRateLimit()) return { kind: 'answer', authz, answer: rateLimited(runtime) };
  const route = runtime.route(request);
  if (route.kind === 'reject') return { kind: 'answer', authz, answer: routeRejected(route.status, route.reason) };
  return { kind: 'forward', authz, backend: route.backend };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Methods a 502/503/504 may be retried for (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Endpoint answers that count as failures for the circuit breaker and may be retried. */
export function isGatewayFailure(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}
