/**
 * HttpMatch → predicate, compiled once per runtime. Semantics (fixed by the MeshConfig
 * contract): `pathRegex` is anchored at the start of the path only; an empty method list means
 * every method; each header (and query parameter) regex searches anywhere in the value and a
 * missing header (parameter) fails. A match is the AND of its conditions; a list of matches is
 * their OR.
 */
import type { HttpMatch } from '../../model/http-match.js';
import type { HttpRequestInfo } from './types.js';

export type RequestPredicate = (request: HttpRequestInfo) => boolean;

const NOTHING: RequestPredicate = () => false;

/** Compile's validation rejects bad regexes; should one slip through it matches nothing. */
function safeRegExp(source: string): RegExp | null {
  try {
    return new RegExp(source);
  } catch {
    return null;
  }
}

export function compileHttpMatch(match: HttpMatch): RequestPredicate {
  const path = match.pathRegex === null ? null : safeRegExp(`^(?:${match.pathRegex})`);
  if (match.pathRegex !== null && path === null) return NOTHING;
  const headers: { readonly name: string; readonly value: RegExp }[] = [];
  for (const header of match.headers) {
    const value = safeRegExp(header.valueRegex);
    if (value === null) return NOTHING;
    headers.push({ name: header.name.toLowerCase(), value });
  }
  const queries: { readonly name: string; readonly value: RegExp }[] = [];
  for (const query of match.queryParams ?? []) {
    const value = safeRegExp(query.valueRegex);
    if (value === null) return NOTHING;
    queries.push({ name: query.name, value });
  }
  const methods = match.methods.length === 0 ? null : new Set(match.methods.map((m) => m.toUpperCase()));
  return (request) => {
    if (methods !== null && !methods.has(request.method)) return false;
    if (path !== null && !path.test(request.path)) return false;
    for (const header of headers) {
      const value = request.header(header.name);
      if (value === undefined || !header.value.test(value)) return false;
    }
    for (const query of queries) {
      const value = queryParam(request.query, query.name);
      if (value === undefined || !query.value.test(value)) return false;
    }
    return true;
  };
}

export function compileHttpMatches(matches: readonly HttpMatch[]): RequestPredicate {
  const predicates = matches.map(compileHttpMatch);
  return (request) => predicates.some((matches) => matches(request));
}

/**
 * The first value of query parameter `name` (case-sensitive) in a query string, percent- and
 * `+`-decoded; undefined when absent. A value that does not decode is compared as written.
 */
export function queryParam(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const key = decode(equals === -1 ? pair : pair.slice(0, equals));
    if (key === name) return decode(equals === -1 ? '' : pair.slice(equals + 1));
  }
  return undefined;
}

function decode(text: string): string {
  const plain = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plain);
  } catch {
    return plain;
  }
}
