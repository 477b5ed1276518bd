/**
 * The responses the proxy gives itself, with a short text body that says who, what and why, and
 * the `reason` recorded in telemetry.
 */
import type { AuthzResult, PortRuntime } from '../runtime/types.js';

export interface LocalAnswer {
  readonly status: number;
  /** Short machine-friendly reason for logs and records. */
  readonly reason: string;
  /** The text body sent to the client. */
  readonly body: string;
  /** A redirect's target URL (sent as `Location`). */
  readonly location?: string;
}

export function serviceName(runtime: PortRuntime): string {
  return `${runtime.service.namespace}/${runtime.service.name}`;
}

function destination(runtime: PortRuntime): string {
  return `${serviceName(runtime)}:${runtime.port.port}`;
}

export function forbidden(runtime: PortRuntime, sourceIp: string, authz: AuthzResult): LocalAnswer {
  // An unknown source's reason already names its address: say it once.
  if (authz.identity === null) {
    return { status: 403, reason: 'forbidden', body: `forbidden: ${authz.reason}; with ACL on, only known pods may access ${destination(runtime)}\n` };
  }
  const who = `${authz.identity.namespace}/${authz.identity.serviceAccount} (pod ${authz.identity.namespace}/${authz.identity.pod}, ${sourceIp})`;
  return { status: 403, reason: 'forbidden', body: `forbidden: ${who} may not access ${destination(runtime)}: ${authz.reason}\n` };
}

export function rateLimited(runtime: PortRuntime): LocalAnswer {
  return { status: 429, reason: 'rate-limited', body: `rate limit exceeded for service ${serviceName(runtime)}\n` };
}

export function badRequest(reason: string): LocalAnswer {
  return { status: 400, reason: 'bad-request', body: `bad request: ${reason}\n` };
}

export function routeRejected(status: number, reason: string): LocalAnswer {
  return { status, reason: 'no-route', body: `${reason}\n` };
}

export function redirected(status: number, location: string): LocalAnswer {
  return { status, reason: 'redirect', body: `redirected to ${location}\n`, location };
}

export function noEndpoint(backendService: string): LocalAnswer {
  return { status: 503, reason: 'no-endpoint', body: `no ready endpoints for service ${backendService}\n` };
}

export function upstreamTimeout(runtime: PortRuntime, timeoutMs: number): LocalAnswer {
  return {
    status: 504,
    reason: 'timeout',
    body: `upstream timeout: ${serviceName(runtime)} did not answer within ${timeoutMs} ms; the request was aborted upstream\n`,
  };
}

export function badGateway(backendService: string, detail: string): LocalAnswer {
  return { status: 502, reason: 'upstream-error', body: `bad gateway: service ${backendService}: ${detail}\n` };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error', 403: 'Forbidden', 408: 'Request Timeout', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}
