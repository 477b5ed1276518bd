/**
 * specs.smi-spec.io: HTTPRouteGroup v1alpha1–v1alpha4, TCPRoute v1alpha1–v1alpha4, UDPRoute
 * v1alpha4. HTTPRouteGroup keeps its matches at the top level in v1alpha1/v1alpha2 and under
 * `spec` from v1alpha3; header filters exist from v1alpha2, written either as a list of
 * single-key mappings (the CRD schema) or as one mapping (the spec's prose).
 */
import type { HeaderMatch, HttpMatch } from '../model/http-match.js';
import type { HTTPRouteGroup, TCPRoute, UDPRoute } from './model.js';
import type { SmiObjectMeta } from './meta.js';
import {
  type FieldIssues, type Fields, describe, has, isFields, join, readItem, readList, readMapping, readPort, readRegex, readString,
} from './fields.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

/** RFC 9110 token: what a header name may contain. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseHTTPRouteGroup(issues: FieldIssues, raw: Fields, alpha: number, meta: SmiObjectMeta): HTTPRouteGroup | undefined {
  const matches = alpha <= 2 ? readHttpMatches(issues, raw, '', alpha) : readSpecHttpMatches(issues, raw, alpha);
  return matches && { ...meta, kind: 'HTTPRouteGroup', matches };
}

function readSpecHttpMatches(issues: FieldIssues, raw: Fields, alpha: number): HttpMatch[] | undefined {
  const spec = readMapping(issues, raw, 'spec', '', false);
  if (spec === undefined || !has(spec, 'matches')) {
    const hint = has(raw, 'matches') ? ' (top-level matches is the v1alpha1/v1alpha2 form)' : '';
    return issues.error('spec.matches', `required${hint}`);
  }
  return readHttpMatches(issues, spec, 'spec', alpha);
}

function readHttpMatches(issues: FieldIssues, parent: Fields, path: string, alpha: number): HttpMatch[] | undefined {
  const items = readList(issues, parent, 'matches', path, true);
  if (items === undefined) return undefined;
  const matches: HttpMatch[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const at = `${join(path, 'matches')}[${index}]`;
    const fields = readItem(issues, item, at);
    const match = fields && readHttpMatch(issues, fields, at, alpha);
    if (match === undefined) {
      valid = false;
    } else if (matches.some((seen) => seen.name === match.name)) {
      issues.error(`${at}.name`, `${describe(match.name)} is used by another match of this group`);
      valid = false;
    } else {
      matches.push(match);
    }
  }
  return valid ? matches : undefined;
}

function readHttpMatch(issues: FieldIssues, fields: Fields, at: string, alpha: number): HttpMatch | undefined {
  const name = readString(issues, fields, 'name', at, true);
  const pathRegex = has(fields, 'pathRegex') ? readRegex(issues, fields['pathRegex'], `${at}.pathRegex`) : null;
  const methods = readMethods(issues, fields, at);
  let headers: HeaderMatch[] | undefined = [];
  if (alpha >= 2) headers = readHeaders(issues, fields['headers'], `${at}.headers`);
  else if (has(fields, 'headers')) issues.warning(`${at}.headers`, 'not a field of specs.smi-spec.io/v1alpha1 (added in v1alpha2); ignored');
  if (name === undefined || pathRegex === undefined || methods === undefined || headers === undefined) return undefined;
  // An empty pathRegex matches every path, like an absent one.
  return { name, pathRegex: pathRegex === '' ? null : pathRegex, methods, headers };
}

/** Uppercase methods; `*` anywhere, or no list at all, means every method (an empty list). */
function readMethods(issues: FieldIssues, fields: Fields, at: string): string[] | undefined {
  const items = readList(issues, fields, 'methods', at, false);
  if (items === undefined) return has(fields, 'methods') ? undefined : [];
  const methods: string[] = [];
  let every = false;
  let valid = true;
  for (const [index, item] of items.entries()) {
    const method = typeof item === 'string' ? item.toUpperCase() : '';
    if (method === '*') every = true;
    else if (HTTP_METHODS.some((known) => known === method)) {
      if (!methods.includes(method)) methods.push(method);
    } else {
      issues.error(`${at}.methods[${index}]`, `must be one of *, ${HTTP_METHODS.join(', ')}, got ${describe(item)}`);
      valid = false;
    }
  }
  if (!valid) return undefined;
  return every ? [] : methods;
}

/** Header filters in either form; names lowercased (HTTP names are case-insensitive). */
function readHeaders(issues: FieldIssues, value: unknown, at: string): HeaderMatch[] | undefined {
  if (value === undefined || value === null) return [];
  let entries: { name: string; value: unknown; at: string }[];
  if (Array.isArray(value)) {
    entries = [];
    for (const [index, item] of value.entries()) {
      if (!isFields(item)) return issues.error(`${at}[${index}]`, `must be a mapping of header name to regular expression, got ${describe(item)}`);
      for (const [name, regex] of Object.entries(item)) entries.push({ name, value: regex, at: `${at}[${index}].${name}` });
    }
  } else if (isFields(value)) {
    entries = Object.entries(value).map(([name, regex]) => ({ name, value: regex, at: `${at}.${name}` }));
  } else {
    return issues.error(at, `must be a list of mappings or a mapping of header name to regular expression, got ${describe(value)}`);
  }
  const headers: HeaderMatch[] = [];
  let valid = true;
  for (const entry of entries) {
    const name = entry.name.toLowerCase();
    const valueRegex = readRegex(issues, entry.value, entry.at);
    if (!HEADER_NAME.test(entry.name)) {
      issues.error(entry.at, `${describe(entry.name)} is not a valid header name`);
      valid = false;
    } else if (headers.some((seen) => seen.name === name)) {
      issues.error(entry.at, `header ${describe(name)} is filtered twice`);
      valid = false;
    } else if (valueRegex === undefined) {
      valid = false;
    } else {
      headers.push({ name, valueRegex });
    }
  }
  return valid ? headers : undefined;
}

export function parseTCPRoute(issues: FieldIssues, raw: Fields, alpha: number, meta: SmiObjectMeta): TCPRoute | undefined {
  if (alpha >= 4) {
    const ports = readRoutePorts(issues, raw);
    return ports && { ...meta, kind: 'TCPRoute', ports };
  }
  const spec = raw['spec'];
  if (isFields(spec) && has(spec, 'matches')) {
    issues.warning('spec.matches', `not a field of specs.smi-spec.io/v1alpha${alpha} (ports came in v1alpha4); ignored, every port matches`);
  }
  return { ...meta, kind: 'TCPRoute', ports: [] };
}

export function parseUDPRoute(issues: FieldIssues, raw: Fields, _alpha: number, meta: SmiObjectMeta): UDPRoute | undefined {
  const ports = readRoutePorts(issues, raw);
  return ports && { ...meta, kind: 'UDPRoute', ports };
}

/** v1alpha4 `spec.matches.ports`: an empty list means every port of the destination. */
function readRoutePorts(issues: FieldIssues, raw: Fields): number[] | undefined {
  const spec = readMapping(issues, raw, 'spec', '', true);
  const matches = spec && readMapping(issues, spec, 'matches', 'spec', true);
  const items = matches && readList(issues, matches, 'ports', 'spec.matches', true);
  if (items === undefined) return undefined;
  const ports: number[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const port = readPort(issues, item, `spec.matches.ports[${index}]`);
    if (port === undefined) valid = false;
    else if (!ports.includes(port)) ports.push(port);
  }
  return valid ? ports : undefined;
}
