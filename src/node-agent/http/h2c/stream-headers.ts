/**
 * The h2c proxy's view of stream headers: the request as routing sees it (method, normalised
 * `:path`, fields), the fields that never cross a hop, and Gateway API header edits on an h2
 * header object.
 */
import type * as http2 from 'node:http2';
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { editFields, queryOf, type Field } from '../../runtime/rule-actions.js';
import type { HttpRequestInfo } from '../../runtime/types.js';
import { HeadError } from '../http1/head-error.js';
import { type PathPolicy, type RequestTarget, checkTargetCharacters, normalizeTarget } from '../request-target.js';

/** Fields HTTP/2 forbids or that describe one hop only (RFC 9113 §8.2.2). */
export const CONNECTION_SPECIFIC = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings',
  'proxy-authorization', 'proxy-authenticate', 'x-forwarded-for', 'x-forwarded-proto',
]);

export class StreamRequestInfo implements HttpRequestInfo {
  readonly method: string;
  /** The normalised `:path` (sent to the endpoint) and its path; null when it was refused. */
  readonly target: RequestTarget | null;
  /** Why `:path` was refused. */
  readonly problem: string | null;

  constructor(readonly headers: http2.IncomingHttpHeaders, paths: PathPolicy) {
    this.method = String(headers[':method'] ?? 'GET').toUpperCase();
    const raw = String(headers[':path'] ?? '');
    let target: RequestTarget | null = null;
    let problem: string | null = null;
    try {
      // RFC 9113 §8.3.1: `:path` is origin-form, or `*` for OPTIONS.
      if (raw.charCodeAt(0) !== 0x2f && raw !== '*') throw new HeadError(400, 'the :path pseudo-header is not a path');
      checkTargetCharacters(raw);
      target = normalizeTarget(raw, this.method, paths);
    } catch (error) {
      if (!(error instanceof HeadError)) throw error;
      problem = error.message;
    }
    this.target = target;
    this.problem = problem;
  }

  get query(): string {
    return queryOf(this.target?.target ?? '');
  }

  get path(): string {
    return this.target?.path ?? '';
  }

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** Applies Gateway API header edits to an h2 header object (pseudo-headers are never edited). */
export function editHeaders(headers: http2.OutgoingHttpHeaders, edits: readonly HeaderEdits[]): http2.OutgoingHttpHeaders {
  if (edits.length === 0) return headers;
  const pseudo: http2.OutgoingHttpHeaders = {};
  const fields: Field[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.charCodeAt(0) === 0x3a) pseudo[name] = value;
    else if (Array.isArray(value)) for (const item of value) fields.push({ name, value: String(item) });
    else if (value !== undefined) fields.push({ name, value: String(value) });
  }
  const out = pseudo;
  for (const field of editFields(fields, edits)) {
    const name = field.name.toLowerCase();
    const existing = out[name];
    out[name] = existing === undefined ? field.value : [...(Array.isArray(existing) ? existing : [String(existing)]), field.value];
  }
  return out;
}
