/**
 * The checks every HTTP request (HTTP/1.1 or h2 stream) passes before it is forwarded, in order:
 * authorization of the caller, the destination's rate limit, then routing. Pure decisions over
 * the captured PortRuntime; the protocol handlers turn an answer into a response.
 */
import type { AuthzResult, BackendRuntime, HttpRequestInfo, PortRuntime, RuleActions } from '../runtime/types.js';
import { redirectLocation } from '../runtime/rule-actions.js';
import { type LocalAnswer, forbidden, rateLimited, redirected, routeRejected } from './local-answers.js';

export type Admission =
  | { readonly kind: 'forward'; readonly authz: AuthzResult; readonly backend: BackendRuntime; readonly actions: RuleActions | null }
  | { readonly kind: 'answer'; readonly authz: AuthzResult; readonly answer: LocalAnswer };

export function admit(runtime: PortRuntime, sourceIp: string, request: HttpRequestInfo): Admission {
  const authz = runtime.authorize(sourceIp, request);
  if (!authz.allowed) return { kind: 'answer', authz, answer: forbidden(runtime, sourceIp, authz) };
  if (!runtime.tryAcquireRateLimit()) return { kind: 'answer', authz, answer: rateLimited(runtime) };
  const route = runtime.route(request, authz.identity?.namespace ?? null);
  if (route.kind === 'reject') {
    if (route.redirect === undefined) return { kind: 'answer', authz, answer: routeRejected(route.status, route.reason) };
    const target = { path: request.path, query: request.query, host: request.header('host') ?? request.header(':authority') };
    const fallbackHost = `${runtime.service.name}.${runtime.service.namespace}`;
    return { kind: 'answer', authz, answer: redirected(route.status, redirectLocation(route.redirect, target, runtime.port.port, fallbackHost)) };
  }
  return { kind: 'forward', authz, backend: route.backend, actions: route.actions };
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
