/**
 * Gateway API filters on the data plane: header edits, path and host rewrites, redirect
 * locations. Pure functions over strings and header lists; the HTTP/1.1 and h2c proxies apply
 * them where they write heads.
 */
import type { HeaderEdits, HttpRedirect, PathEdit } from '../../routing/mesh-config.js';
import type { RuleActions } from './types.js';

/** A header field as a proxy holds it: name as written, value. */
export interface Field {
  readonly name: string;
  readonly value: string;
}

/**
 * Applies edits in order: `remove` and `set` drop every field of that name, `set` then adds its
 * value, `add` appends to an existing field's value (`old,new`) or adds the field.
 */
export function editFields(fields: readonly Field[], editsList: readonly HeaderEdits[]): Field[] {
  let out = [...fields];
  for (const edits of editsList) {
    const drop = new Set([...edits.remove, ...edits.set.map((h) => h.name.toLowerCase())]);
    if (drop.size > 0) out = out.filter((field) => !drop.has(field.name.toLowerCase()));
    for (const header of edits.set) out.push(header);
    for (const header of edits.add) {
      const lower = header.name.toLowerCase();
      const at = out.findIndex((field) => field.name.toLowerCase() === lower);
      if (at === -1) out.push(header);
      else out[at] = { name: (out[at] as Field).name, value: `${(out[at] as Field).value},${header.value}` };
    }
  }
  return out;
}

/** The path after an edit; `path` is without the query string. */
export function editPath(path: string, edit: PathEdit): string {
  if (edit.type === 'ReplaceFullPath') return edit.value;
  const rest = path.slice(edit.prefix.length);
  const base = edit.value.endsWith('/') ? edit.value.slice(0, -1) : edit.value;
  const joined = base + rest;
  return joined === '' ? '/' : joined;
}

/** The query string of a request target, without the `?` ('' when none or empty). */
export function queryOf(target: string): string {
  const at = target.indexOf('?');
  return at === -1 ? '' : target.slice(at + 1);
}

function withQuery(path: string, query: string): string {
  return query === '' ? path : `${path}?${query}`;
}

/**
 * The Location of a redirect (Gateway API rules): the scheme stays http unless set; the host is
 * the request's (port dropped) unless set; without a port, a changed scheme uses its well-known
 * port and otherwise the Service port the client called; 80 for http and 443 for https are
 * left out.
 */
export function redirectLocation(redirect: HttpRedirect, request: { path: string; query: string; host: string | undefined }, servicePort: number, fallbackHost: string): string {
  const scheme = redirect.scheme ?? 'http';
  const host = redirect.hostname ?? hostWithoutPort(request.host) ?? fallbackHost;
  const port = redirect.port ?? (redirect.scheme !== null ? (scheme === 'https' ? 443 : 80) : servicePort);
  const showPort = !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443));
  const path = redirect.path === null ? request.path : editPath(request.path, redirect.path);
  return `${scheme}://${host}${showPort ? `:${port}` : ''}${withQuery(path, request.query)}`;
}

function hostWithoutPort(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The request target after a rule's URLRewrite path edit (query kept); null when unchanged. */
export function rewrittenTarget(actions: RuleActions | null, path: string, query: string): string | null {
  const edit = actions?.rewrite?.path;
  return edit ? withQuery(editPath(path, edit), query) : null;
}
