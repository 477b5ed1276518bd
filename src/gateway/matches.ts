/**
 * HTTPRoute and GRPCRoute matches, validated as the Gateway API CRDs validate them (enums,
 * limits, path rules, unique names), with the CRD defaults filled in.
 */
import {
  type FieldIssues, type Fields, describe, has, readEnum, readItem, readList, readMapping, readRegex, readString,
} from '../smi/fields.js';
import { HEADER_NAME, HTTP_METHODS } from '../smi/specs.js';
import type { PathMatchType, RouteMatch, ValueMatch, ValueMatchType } from './model.js';

const MAX_MATCHES = 64;
const MAX_VALUE_MATCHES = 16;
const MAX_PATH_CHARS = 1024;

/** The CRD default when a rule lists no matches: every request. */
export const MATCH_EVERYTHING: RouteMatch = {
  path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [], method: null, grpc: null,
};

/** `rules[i].matches`; absent = one match of every request. Undefined when invalid. */
export function readHttpMatches(issues: FieldIssues, rule: Fields, at: string): RouteMatch[] | undefined {
  return readMatchList(issues, rule, at, readHttpMatch);
}

export function readGrpcMatches(issues: FieldIssues, rule: Fields, at: string): RouteMatch[] | undefined {
  return readMatchList(issues, rule, at, readGrpcMatch);
}

type MatchReader = (issues: FieldIssues, fields: Fields, at: string) => RouteMatch | undefined;

function readMatchList(issues: FieldIssues, rule: Fields, at: string, read: MatchReader): RouteMatch[] | undefined {
  const items = readList(issues, rule, 'matches', at, false);
  if (items === undefined) return has(rule, 'matches') ? undefined : [MATCH_EVERYTHING];
  if (items.length > MAX_MATCHES) return issues.error(`${at}.matches`, `at most ${MAX_MATCHES} matches, got ${items.length}`);
  if (items.length === 0) return [MATCH_EVERYTHING];
  const matches: RouteMatch[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const where = `${at}.matches[${index}]`;
    const fields = readItem(issues, item, where);
    const match = fields && read(issues, fields, where);
    if (match === undefined) valid = false;
    else matches.push(match);
  }
  return valid ? matches : undefined;
}

function readHttpMatch(issues: FieldIssues, fields: Fields, at: string): RouteMatch | undefined {
  const path = readPath(issues, fields, at);
  const headers = readValueMatches(issues, fields, 'headers', at, true);
  const queryParams = readValueMatches(issues, fields, 'queryParams', at, false);
  let method: string | null | undefined = null;
  if (has(fields, 'method')) method = readEnum(issues, fields, 'method', at, HTTP_METHODS);
  if (path === undefined || headers === undefined || queryParams === undefined || method === undefined) return undefined;
  return { path, headers, queryParams, method, grpc: null };
}

function readPath(issues: FieldIssues, fields: Fields, at: string): RouteMatch['path'] | undefined {
  const path = readMapping(issues, fields, 'path', at, false);
  if (path === undefined) return has(fields, 'path') ? undefined : MATCH_EVERYTHING.path;
  const where = `${at}.path`;
  const type: PathMatchType | undefined = has(path, 'type') ? readEnum(issues, path, 'type', where, ['Exact', 'PathPrefix', 'RegularExpression']) : 'PathPrefix';
  const value = has(path, 'value') ? readString(issues, path, 'value', where, true) : '/';
  if (type === undefined || value === undefined) return undefined;
  if (value.length > MAX_PATH_CHARS) return issues.error(`${where}.value`, `at most ${MAX_PATH_CHARS} characters`);
  if (type === 'RegularExpression') return readRegex(issues, value, `${where}.value`) === undefined ? undefined : { type, value };
  const wrong = pathProblem(value);
  if (wrong !== null) return issues.error(`${where}.value`, `${wrong}, got ${describe(value)}`);
  return { type, value };
}

/** The CRD's rules for Exact and PathPrefix values. */
export function pathProblem(value: string): string | null {
  if (!value.startsWith('/')) return 'must be an absolute path (start with "/")';
  if (/\/\/|\/\.\/|\/\.\.\/|%2[fF]|%2[eE]|#/.test(value) || value.endsWith('/..') || value.endsWith('/.')) {
    return 'must not contain "//", "/./", "/../", "%2f", "%2e" or "#", nor end in "/." or "/.."';
  }
  return null;
}

/** `headers` (names case-insensitive) or `queryParams` (names case-sensitive). */
function readValueMatches(issues: FieldIssues, fields: Fields, key: string, at: string, caseInsensitive: boolean): ValueMatch[] | undefined {
  const items = readList(issues, fields, key, at, false);
  if (items === undefined) return has(fields, key) ? undefined : [];
  if (items.length > MAX_VALUE_MATCHES) return issues.error(`${at}.${key}`, `at most ${MAX_VALUE_MATCHES} entries, got ${items.length}`);
  const matches: ValueMatch[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const where = `${at}.${key}[${index}]`;
    const match = readValueMatch(issues, item, where);
    if (match === undefined) {
      valid = false;
      continue;
    }
    const same = (seen: ValueMatch): boolean => (caseInsensitive ? seen.name.toLowerCase() === match.name.toLowerCase() : seen.name === match.name);
    // The Gateway API ignores later entries with a name already matched; the CRD refuses them.
    if (matches.some(same)) {
      issues.error(`${where}.name`, `${describe(match.name)} is matched twice`);
      valid = false;
    } else {
      matches.push(match);
    }
  }
  return valid ? matches : undefined;
}

function readValueMatch(issues: FieldIssues, item: unknown, at: string): ValueMatch | undefined {
  const fields = readItem(issues, item, at);
  if (fields === undefined) return undefined;
  const type: ValueMatchType | undefined = has(fields, 'type') ? readEnum(issues, fields, 'type', at, ['Exact', 'RegularExpression']) : 'Exact';
  const name = readString(issues, fields, 'name', at, true);
  const value = readString(issues, fields, 'value', at, true);
  if (name !== undefined && !HEADER_NAME.test(name)) return issues.error(`${at}.name`, `${describe(name)} is not a valid name`);
  if (type === 'RegularExpression' && value !== undefined && readRegex(issues, value, `${at}.value`) === undefined) return undefined;
  if (type === undefined || name === undefined || value === undefined) return undefined;
  return { type, name, value };
}

/** GRPCRoute `method: {type, service, method}` as a path match on `/service/method`. */
function readGrpcMatch(issues: FieldIssues, fields: Fields, at: string): RouteMatch | undefined {
  const headers = readValueMatches(issues, fields, 'headers', at, true);
  const method = readMapping(issues, fields, 'method', at, false);
  if (headers === undefined || (method === undefined && has(fields, 'method'))) return undefined;
  if (method === undefined) return { ...MATCH_EVERYTHING, headers };
  const where = `${at}.method`;
  const type: ValueMatchType | undefined = has(method, 'type') ? readEnum(issues, method, 'type', where, ['Exact', 'RegularExpression']) : 'Exact';
  const service = readString(issues, method, 'service', where, false) ?? null;
  const name = readString(issues, method, 'method', where, false) ?? null;
  if (type === undefined) return undefined;
  if (service === null && name === null) return issues.error(where, 'must name a service or a method (or both)');
  const grpc = { service: service?.length ?? 0, method: name?.length ?? 0 };
  if (type === 'RegularExpression') {
    for (const [key, value] of [['service', service], ['method', name]] as const) {
      if (value !== null && readRegex(issues, value, `${where}.${key}`) === undefined) return undefined;
    }
    return { path: { type: 'RegularExpression', value: `/${service ?? '[^/]+'}/${name ?? '[^/]+'}` }, headers, queryParams: [], method: null, grpc };
  }
  if (service !== null && !/^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/.test(service)) {
    return issues.error(`${where}.service`, `must be a fully qualified gRPC service name, got ${describe(service)}`);
  }
  if (name !== null && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(name)) return issues.error(`${where}.method`, `must be a gRPC method name, got ${describe(name)}`);
  if (name === null) return { path: { type: 'PathPrefix', value: `/${service}` }, headers, queryParams: [], method: null, grpc };
  if (service === null) return { path: { type: 'RegularExpression', value: `/[^/]+/${escapeRegex(name)}` }, headers, queryParams: [], method: null, grpc };
  return { path: { type: 'Exact', value: `/${service}/${name}` }, headers, queryParams: [], method: null, grpc };
}

export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
