/**
 * Trace headers (docs/http-proxy.md#tracing). The agent forwards W3C `traceparent`/`tracestate`
 * and B3 (`b3`, `x-b3-*`) unchanged, as any end-to-end field; it adds `x-request-id` when the
 * request has none; and it reads the trace id for the access log. Nothing here allocates unless
 * the request carries the field.
 */
import { randomUUID } from 'node:crypto';

/** What the trace readers need from a request: the combined value of a field (lowercase name). */
export interface HeaderSource {
  header(name: string): string | undefined;
}

/** A client's own request id is logged as sent, up to this many characters. */
const MAX_REQUEST_ID_CHARS = 128;
const TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;

/** The request's `x-request-id`, or null when it has none (the agent then adds `newRequestId()`). */
export function requestIdOf(request: HeaderSource): string | null {
  const id = request.header('x-request-id');
  if (id === undefined || id === '') return null;
  return id.length > MAX_REQUEST_ID_CHARS ? id.slice(0, MAX_REQUEST_ID_CHARS) : id;
}

export function newRequestId(): string {
  return randomUUID();
}

/**
 * The trace id the request carries: from `traceparent` (`00-<trace-id>-<parent-id>-<flags>`),
 * else B3 single (`b3: <trace-id>-<span-id>…`), else `x-b3-traceid`; '' when none is valid
 * (lowercase hex, 16 or 32 digits, not all zeros).
 */
export function traceIdOf(request: HeaderSource): string {
  const parent = request.header('traceparent');
  if (parent !== undefined) return valid(parent.split('-')[1]);
  const b3 = request.header('b3');
  if (b3 !== undefined) return valid(b3.split('-')[0]);
  return valid(request.header('x-b3-traceid'));
}

function valid(id: string | undefined): string {
  if (id === undefined) return '';
  const trimmed = id.trim();
  return TRACE_ID.test(trimmed) && !/^0+$/.test(trimmed) ? trimmed : '';
}
