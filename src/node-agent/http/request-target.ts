/**
 * The one normalised request target of an HTTP request (HTTP/1.1 request line or h2 `:path`):
 * authorization, routing, metrics and the request sent to the endpoint all use it, so what is
 * authorized is what is sent.
 *
 * - absolute-form (`http://host/p?q`) becomes origin-form (`/p?q`); its authority replaces Host
 *   (RFC 9112 §3.2.2); `*` is allowed for OPTIONS only;
 * - percent-encoded unreserved characters are decoded (`%41` → `A`, `%2e` → `.`), the hex digits
 *   of the other encodings are uppercased (RFC 3986 §6.2.2);
 * - dot-segments are removed (RFC 3986 §5.2.4); a dot-segment with parameters (`..;x`), which
 *   servlet containers resolve as `..`, is refused;
 * - `%2F`, `%5C` and a raw `\` follow `escapedSlashes` (Envoy's
 *   `path_with_escaped_slashes_action`); empty segments are merged when `mergeSlashes` is on
 *   (the default);
 * - a fragment (`#`), an invalid percent-encoding or an encoded NUL is refused.
 * The query is passed on unchanged.
 */
import { TARGET } from './http1/chars.js';
import { HeadError } from './http1/head-error.js';

/** What `%2F`, `%5C` and `\` in a path become: refused (400), left encoded, or decoded to `/`. */
export type EscapedSlashAction = 'reject' | 'keep' | 'unescape';

export const ESCAPED_SLASH_ACTIONS: readonly EscapedSlashAction[] = ['reject', 'keep', 'unescape'];

export interface PathPolicy {
  readonly escapedSlashes: EscapedSlashAction;
  /** `/a//b` → `/a/b`. */
  readonly mergeSlashes: boolean;
}

/**
 * Slashes are merged by default: path rules are regexes, and a pod that merges `//admin` into
 * `/admin` must not serve what a rule like `/(?!admin)` let through as `//admin`.
 */
export const DEFAULT_PATH_POLICY: PathPolicy = Object.freeze({ escapedSlashes: 'reject', mergeSlashes: true });

export interface RequestTarget {
  /** The normalised path without the query (`*` for OPTIONS *). */
  readonly path: string;
  /** What is sent to the endpoint: the normalised path and the query as received. */
  readonly target: string;
  /** The authority of an absolute-form target (it replaces Host); null otherwise. */
  readonly authority: string | null;
}

const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?$/;

function invalid(reason: string): HeadError {
  return new HeadError(400, reason);
}

/** Throws a HeadError (400) unless `raw` is visible ASCII, as a request line's target is (HTTP/2 `:path` needs the check). */
export function checkTargetCharacters(raw: string): void {
  for (let i = 0; i < raw.length; i++) {
    if (TARGET[raw.charCodeAt(i)] !== 1) throw invalid('invalid character in the request target');
  }
}

/**
 * Normalises a request-target of visible ASCII characters (see checkTargetCharacters); throws a
 * HeadError (400) for one that cannot be read one way only.
 */
export function normalizeTarget(raw: string, method: string, policy: PathPolicy): RequestTarget {
  if (raw === '*') {
    if (method !== 'OPTIONS') throw invalid('the request target "*" is only for OPTIONS');
    return { path: '*', target: '*', authority: null };
  }
  if (raw.indexOf('#') !== -1) throw invalid('a fragment (#) in the request target');
  let start = 0;
  let authority: string | null = null;
  if (raw.charCodeAt(0) !== 0x2f) {
    const scheme = raw.indexOf('://');
    const name = scheme === -1 ? '' : raw.slice(0, scheme).toLowerCase();
    if (name !== 'http' && name !== 'https') throw invalid('the request target is neither a path nor an http URL');
    start = scheme + 3;
    let end = start;
    while (end < raw.length && raw.charCodeAt(end) !== 0x2f && raw.charCodeAt(end) !== 0x3f) end++;
    authority = raw.slice(start, end);
    if (!AUTHORITY.test(authority)) throw invalid('invalid authority in an absolute-form request target');
    start = end;
  }
  const query = raw.indexOf('?', start);
  const pathEnd = query === -1 ? raw.length : query;
  if (start === pathEnd) return { path: '/', target: query === -1 ? '/' : `/${raw.slice(query)}`, authority };
  const normalized = normalizePath(raw, start, pathEnd, policy);
  if (normalized === null) {
    if (start === 0) return { path: query === -1 ? raw : raw.slice(0, query), target: raw, authority };
    return { path: raw.slice(start, pathEnd), target: raw.slice(start), authority };
  }
  return { path: normalized, target: query === -1 ? normalized : normalized + raw.slice(query), authority };
}

/**
 * The normalised form of `raw[start, end)`, a path starting with `/`; null when there is nothing
 * to change (no `%`, `\`, `/.` or, when merging, `//`), so the common path allocates nothing.
 */
function normalizePath(raw: string, start: number, end: number, policy: PathPolicy): string | null {
  if (raw.charCodeAt(start) !== 0x2f) throw invalid('the request path does not start with "/"');
  let clean = true;
  for (let i = start; i < end && clean; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x25 || code === 0x5c) clean = false;
    else if (code === 0x2f && i + 1 < end) {
      const next = raw.charCodeAt(i + 1);
      clean = next !== 0x2e && !(next === 0x2f && policy.mergeSlashes);
    }
  }
  if (clean) return null;
  return removeDotSegments(decodePath(raw, start, end, policy), policy.mergeSlashes);
}

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function isUnreserved(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a) ||
    code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e;
}

/** Decodes unreserved characters, uppercases other encodings, and applies the slash policy. */
function decodePath(raw: string, start: number, end: number, policy: PathPolicy): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x5c) {
      out += slash('\\', '%5C', policy.escapedSlashes);
      continue;
    }
    if (code !== 0x25) {
      out += raw[i];
      continue;
    }
    const high = i + 2 < end ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const low = high === -1 ? -1 : hexValue(raw.charCodeAt(i + 2));
    if (low === -1) throw invalid('invalid percent-encoding in the request path');
    const value = high * 16 + low;
    i += 2;
    if (value === 0) throw invalid('an encoded NUL (%00) in the request path');
    if (isUnreserved(value)) out += String.fromCharCode(value);
    else if (value === 0x2f || value === 0x5c) out += slash(value === 0x2f ? '%2F' : '%5C', value === 0x2f ? '%2F' : '%5C', policy.escapedSlashes);
    else out += `%${HEX[high]}${HEX[low]}`;
  }
  return out;
}

function slash(seen: string, encoded: string, action: EscapedSlashAction): string {
  if (action === 'unescape') return '/';
  if (action === 'keep') return encoded;
  throw invalid(`"${seen}" in the request path (an escaped or back slash) is refused`);
}

/** RFC 3986 §5.2.4 on a path starting with `/`, optionally dropping empty segments. */
function removeDotSegments(path: string, mergeSlashes: boolean): string {
  const segments = path.split('/');
  const output: string[] = [];
  for (let k = 1; k < segments.length; k++) {
    const segment = segments[k] as string;
    const last = k === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') output.pop();
      if (last) output.push('');
      continue;
    }
    if (segment === '' && mergeSlashes && !last) continue;
    if (isDotWithParameters(segment)) throw invalid('a dot-segment with parameters ("..;") in the request path');
    output.push(segment);
  }
  return `/${output.join('/')}`;
}

function isDotWithParameters(segment: string): boolean {
  if (segment.charCodeAt(0) !== 0x2e) return false;
  const second = segment.charCodeAt(1);
  return second === 0x3b || (second === 0x2e && segment.charCodeAt(2) === 0x3b);
}
