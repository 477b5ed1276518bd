/**
 * Route filters: RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite,
 * RequestMirror (and, per backendRef, the two header modifiers). Validated as the CRDs do: one
 * filter of each type per list (mirrors excepted), redirect and rewrite never together, the
 * sub-field matching `type` required.
 */
import { type FieldIssues, type Fields, describe, has, readEnum, readItem, readList, readMapping, readPort, readString, readWhole } from '../smi/fields.js';
import { HEADER_NAME } from '../smi/specs.js';
import { pathProblem } from './matches.js';
import {
  NO_FILTERS, type HeaderModifier, type MirrorFilter, type ObjectReference, type PathModifier, type RedirectFilter, type RedirectStatus,
  type RewriteFilter, type RouteFilters,
} from './model.js';

const MAX_FILTERS = 16;
const MAX_HEADER_EDITS = 16;
const MAX_INT32 = 2 ** 31 - 1;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Framing and hop-by-hop fields: a filter changing them would change how the body is read. */
const PROTECTED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function protectedHeader(name: string): boolean {
  return PROTECTED_HEADERS.has(name.toLowerCase());
}

export type FilterType = 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestRedirect' | 'URLRewrite' | 'RequestMirror';

const FILTER_FIELDS: Readonly<Record<FilterType, string>> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
};

/**
 * `filters` of a rule or backendRef. `allowed` lists the types this place accepts; others
 * (ExtensionRef, CORS, …) are errors: a filter is never skipped silently.
 */
export function readFilters(
  issues: FieldIssues, parent: Fields, at: string, allowed: readonly FilterType[], routeNamespace: string,
): RouteFilters | undefined {
  const items = readList(issues, parent, 'filters', at, false);
  if (items === undefined) return has(parent, 'filters') ? undefined : NO_FILTERS;
  if (items.length > MAX_FILTERS) return issues.error(`${at}.filters`, `at most ${MAX_FILTERS} filters, got ${items.length}`);
  let filters: RouteFilters = NO_FILTERS;
  let valid = true;
  const seen = new Set<string>();
  for (const [index, item] of items.entries()) {
    const where = `${at}.filters[${index}]`;
    const fields = readItem(issues, item, where);
    const type = fields && readFilterType(issues, fields, where, allowed);
    if (fields === undefined || type === undefined) {
      valid = false;
      continue;
    }
    if (type !== 'RequestMirror' && seen.has(type)) {
      issues.error(`${where}.type`, `${type} may appear only once`);
      valid = false;
      continue;
    }
    seen.add(type);
    const next = readFilter(issues, fields, where, type, filters, routeNamespace);
    if (next === undefined) valid = false;
    else filters = next;
  }
  if (filters.redirect !== null && filters.rewrite !== null) {
    return issues.error(`${at}.filters`, 'RequestRedirect and URLRewrite cannot be used together');
  }
  return valid ? filters : undefined;
}

function readFilterType(issues: FieldIssues, fields: Fields, at: string, allowed: readonly FilterType[]): FilterType | undefined {
  const type = readString(issues, fields, 'type', at, true);
  if (type === undefined) return undefined;
  const found = allowed.find((candidate) => candidate === type);
  if (found === undefined) return issues.error(`${at}.type`, `${describe(type)} is not supported here (supported: ${allowed.join(', ')})`);
  return found;
}

function readFilter(
  issues: FieldIssues, fields: Fields, at: string, type: FilterType, filters: RouteFilters, routeNamespace: string,
): RouteFilters | undefined {
  const key = FILTER_FIELDS[type];
  const body = readMapping(issues, fields, key, at, true);
  if (body === undefined) return undefined;
  const where = `${at}.${key}`;
  switch (type) {
    case 'RequestHeaderModifier': {
      const requestHeaders = readHeaderModifier(issues, body, where);
      return requestHeaders && { ...filters, requestHeaders };
    }
    case 'ResponseHeaderModifier': {
      const responseHeaders = readHeaderModifier(issues, body, where);
      return responseHeaders && { ...filters, responseHeaders };
    }
    case 'RequestRedirect': {
      const redirect = readRedirect(issues, body, where);
      return redirect && { ...filters, redirect };
    }
    case 'URLRewrite': {
      const rewrite = readRewrite(issues, body, where);
      return rewrite && { ...filters, rewrite };
    }
    case 'RequestMirror': {
      const mirror = readMirror(issues, body, where, routeNamespace);
      return mirror && { ...filters, mirrors: [...filters.mirrors, mirror] };
    }
  }
}

function readHeaderModifier(issues: FieldIssues, body: Fields, at: string): HeaderModifier | undefined {
  const set = readHeaderValues(issues, body, 'set', at);
  const add = readHeaderValues(issues, body, 'add', at);
  const remove = readRemove(issues, body, at);
  return set && add && remove && { set, add, remove };
}

function readRemove(issues: FieldIssues, body: Fields, at: string): string[] | undefined {
  const items = readList(issues, body, 'remove', at, false);
  if (items === undefined) return has(body, 'remove') ? undefined : [];
  if (items.length > MAX_HEADER_EDITS) return issues.error(`${at}.remove`, `at most ${MAX_HEADER_EDITS} names`);
  const remove: string[] = [];
  let valid = true;
  for (const [index, name] of items.entries()) {
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
      issues.error(`${at}.remove[${index}]`, `must be a header name, got ${describe(name)}`);
      valid = false;
    } else if (protectedHeader(name)) {
      issues.error(`${at}.remove[${index}]`, `${describe(name)} frames the message and cannot be changed by a filter`);
      valid = false;
    } else if (remove.includes(name.toLowerCase())) {
      issues.error(`${at}.remove[${index}]`, `${describe(name)} is listed twice`);
      valid = false;
    } else {
      remove.push(name.toLowerCase());
    }
  }
  return valid ? remove : undefined;
}

function readHeaderValues(issues: FieldIssues, body: Fields, key: string, at: string): { name: string; value: string }[] | undefined {
  const items = readList(issues, body, key, at, false);
  if (items === undefined) return has(body, key) ? undefined : [];
  if (items.length > MAX_HEADER_EDITS) return issues.error(`${at}.${key}`, `at most ${MAX_HEADER_EDITS} headers`);
  const out: { name: string; value: string }[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const where = `${at}.${key}[${index}]`;
    const fields = readItem(issues, item, where);
    const name = fields && readString(issues, fields, 'name', where, true);
    const value = fields && typeof fields['value'] === 'string' ? fields['value'] : undefined;
    if (fields !== undefined && value === undefined) issues.error(`${where}.value`, `must be a string, got ${describe(fields['value'])}`);
    if (name === undefined || value === undefined) {
      valid = false;
    } else if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
      issues.error(where, `${describe(name)}: ${describe(value)} is not a valid header field`);
      valid = false;
    } else if (protectedHeader(name)) {
      issues.error(`${where}.name`, `${describe(name)} frames the message and cannot be changed by a filter`);
      valid = false;
    } else if (out.some((seen) => seen.name.toLowerCase() === name.toLowerCase())) {
      issues.error(`${where}.name`, `${describe(name)} is listed twice`);
      valid = false;
    } else {
      out.push({ name, value });
    }
  }
  return valid ? out : undefined;
}

function readPathModifier(issues: FieldIssues, body: Fields, at: string): PathModifier | null | undefined {
  const path = readMapping(issues, body, 'path', at, false);
  if (path === undefined) return has(body, 'path') ? undefined : null;
  const where = `${at}.path`;
  const type = readEnum(issues, path, 'type', where, ['ReplaceFullPath', 'ReplacePrefixMatch']);
  if (type === undefined) return undefined;
  const key = type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
  const value = readString(issues, path, key, where, true);
  if (value === undefined) return undefined;
  const wrong = pathProblem(value);
  if (wrong !== null) return issues.error(`${where}.${key}`, `${wrong}, got ${describe(value)}`);
  return { type, value };
}

const REDIRECT_CODES: readonly RedirectStatus[] = [301, 302, 303, 307, 308];

function readRedirect(issues: FieldIssues, body: Fields, at: string): RedirectFilter | undefined {
  const scheme = has(body, 'scheme') ? readEnum(issues, body, 'scheme', at, ['http', 'https']) : null;
  const hostname = readHostname(issues, body, at);
  const port = has(body, 'port') ? readPort(issues, body['port'], `${at}.port`) : null;
  const path = readPathModifier(issues, body, at);
  let statusCode: RedirectStatus | undefined = 302;
  if (has(body, 'statusCode')) {
    const code = body['statusCode'];
    statusCode = REDIRECT_CODES.find((known) => known === code);
    if (statusCode === undefined) issues.error(`${at}.statusCode`, `must be one of ${REDIRECT_CODES.join(', ')}, got ${describe(code)}`);
  }
  if (scheme === undefined || hostname === undefined || port === undefined || path === undefined || statusCode === undefined) return undefined;
  return { scheme, hostname, port, path, statusCode };
}

function readRewrite(issues: FieldIssues, body: Fields, at: string): RewriteFilter | undefined {
  const hostname = readHostname(issues, body, at);
  const path = readPathModifier(issues, body, at);
  return hostname === undefined || path === undefined ? undefined : { hostname, path };
}

function readHostname(issues: FieldIssues, body: Fields, at: string): string | null | undefined {
  if (!has(body, 'hostname')) return null;
  const hostname = readString(issues, body, 'hostname', at, true);
  if (hostname === undefined) return undefined;
  if (!HOSTNAME.test(hostname)) return issues.error(`${at}.hostname`, `must be a DNS name, got ${describe(hostname)}`);
  return hostname;
}

function readMirror(issues: FieldIssues, body: Fields, at: string, routeNamespace: string): MirrorFilter | undefined {
  const fields = readMapping(issues, body, 'backendRef', at, true);
  const ref = fields && readObjectReference(issues, fields, `${at}.backendRef`, routeNamespace);
  const share = readMirrorShare(issues, body, at);
  return ref && share && { ...ref, ...share };
}

/** `percent` (0-100) or `fraction` ({numerator, denominator = 100}), never both; neither = every request. */
function readMirrorShare(issues: FieldIssues, body: Fields, at: string): { numerator: number; denominator: number } | undefined {
  if (has(body, 'percent') && has(body, 'fraction')) return issues.error(at, 'only one of percent or fraction may be specified');
  if (has(body, 'percent')) {
    const percent = readWhole(issues, body['percent'], `${at}.percent`, 0, 100);
    return percent === undefined ? undefined : { numerator: percent, denominator: 100 };
  }
  if (!has(body, 'fraction')) return { numerator: 1, denominator: 1 };
  const fraction = readMapping(issues, body, 'fraction', at, true);
  if (fraction === undefined) return undefined;
  const where = `${at}.fraction`;
  if (!has(fraction, 'numerator')) return issues.error(`${where}.numerator`, 'required');
  const numerator = readWhole(issues, fraction['numerator'], `${where}.numerator`, 0, MAX_INT32);
  const denominator = has(fraction, 'denominator') ? readWhole(issues, fraction['denominator'], `${where}.denominator`, 1, MAX_INT32) : 100;
  if (numerator === undefined || denominator === undefined) return undefined;
  if (numerator > denominator) return issues.error(where, `numerator must be less than or equal to denominator, got ${numerator}/${denominator}`);
  return { numerator, denominator };
}

/** `{group?, kind?, name, namespace?, port?}`: a core Service unless it says otherwise. */
export function readObjectReference(issues: FieldIssues, fields: Fields, at: string, routeNamespace: string): ObjectReference | undefined {
  let group: string | undefined = '';
  if (has(fields, 'group')) {
    const value = fields['group'];
    group = typeof value === 'string' ? value : issues.error(`${at}.group`, `must be a string, got ${describe(value)}`);
  }
  const kind = readString(issues, fields, 'kind', at, false) ?? 'Service';
  const name = readString(issues, fields, 'name', at, true);
  const namespace = readString(issues, fields, 'namespace', at, false) ?? routeNamespace;
  const port = has(fields, 'port') ? readPort(issues, fields['port'], `${at}.port`) : null;
  if (group === undefined || name === undefined || port === undefined) return undefined;
  if (group === '' && kind === 'Service' && port === null) return issues.error(`${at}.port`, 'required when referring to a Service');
  return { group, kind, namespace, name, port };
}
