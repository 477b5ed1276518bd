/**
 * HTTPRoute and GRPCRoute specs: parentRefs, rules (name, matches, filters, backendRefs,
 * timeouts). Both kinds share this reader; they differ in their matches and allowed filters.
 */
import { type FieldIssues, type Fields, describe, has, readItem, readList, readMapping, readPort, readString, readWhole } from '../smi/fields.js';
import { type FilterType, readFilters, readObjectReference } from './filters.js';
import { readGrpcMatches, readHttpMatches } from './matches.js';
import type { BackendRef, ParentRef, RouteMatch, RouteRule, RouteTimeouts } from './model.js';
import type { GatewayKind } from './resources.js';

const MAX_PARENTS = 32;
const MAX_RULES = 16;
const MAX_BACKENDS = 16;
const MAX_WEIGHT = 1_000_000;
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Gateway API Duration: 1 to 4 terms of up to 5 digits with h, m, s or ms. */
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const DURATION_TERM = /([0-9]{1,5})(h|ms|m|s)/g;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

interface KindSpec {
  readonly readMatches: (issues: FieldIssues, rule: Fields, at: string) => RouteMatch[] | undefined;
  readonly ruleFilters: readonly FilterType[];
  readonly backendFilters: readonly FilterType[];
  readonly timeouts: boolean;
}

const KINDS: Readonly<Record<GatewayKind, KindSpec>> = {
  HTTPRoute: {
    readMatches: readHttpMatches,
    ruleFilters: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror'],
    backendFilters: ['RequestHeaderModifier', 'ResponseHeaderModifier'],
    timeouts: true,
  },
  GRPCRoute: {
    readMatches: readGrpcMatches,
    ruleFilters: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror'],
    backendFilters: ['RequestHeaderModifier', 'ResponseHeaderModifier'],
    timeouts: false,
  },
};

export interface RouteSpec {
  readonly parentRefs: readonly ParentRef[];
  readonly rules: readonly RouteRule[];
}

/** The parentRefs (needed even when the rest is invalid, to say so in the status) and the rules. */
export function readRouteSpec(issues: FieldIssues, raw: Fields, kind: GatewayKind, namespace: string): { parentRefs: ParentRef[]; rules: RouteRule[] | undefined } {
  const spec = readMapping(issues, raw, 'spec', '', true);
  if (spec === undefined) return { parentRefs: [], rules: undefined };
  const parentRefs = readParentRefs(issues, spec);
  const rules = readRules(issues, spec, KINDS[kind], namespace);
  if (has(spec, 'hostnames')) issues.warning('spec.hostnames', 'ignored for Service parents: a mesh route applies to its Service whatever name the client used');
  return { parentRefs, rules };
}

function readParentRefs(issues: FieldIssues, spec: Fields): ParentRef[] {
  const items = readList(issues, spec, 'parentRefs', 'spec', false) ?? [];
  if (items.length > MAX_PARENTS) issues.error('spec.parentRefs', `at most ${MAX_PARENTS} parentRefs, got ${items.length}`);
  const refs: ParentRef[] = [];
  for (const [index, item] of items.entries()) {
    const at = `spec.parentRefs[${index}]`;
    const fields = readItem(issues, item, at);
    if (fields === undefined) continue;
    const name = readString(issues, fields, 'name', at, true);
    const port = has(fields, 'port') ? readPort(issues, fields['port'], `${at}.port`) : null;
    const sectionName = readString(issues, fields, 'sectionName', at, false) ?? null;
    if (name === undefined || port === undefined) continue;
    refs.push({
      group: typeof fields['group'] === 'string' ? fields['group'] : 'gateway.networking.k8s.io',
      kind: typeof fields['kind'] === 'string' ? fields['kind'] : 'Gateway',
      namespace: typeof fields['namespace'] === 'string' && fields['namespace'] !== '' ? fields['namespace'] : null,
      name, sectionName, port,
    });
  }
  return refs;
}

function readRules(issues: FieldIssues, spec: Fields, kind: KindSpec, namespace: string): RouteRule[] | undefined {
  const items = readList(issues, spec, 'rules', 'spec', false);
  if (items === undefined && has(spec, 'rules')) return undefined;
  // The CRD default: one rule matching every request, with no backends.
  const list = items === undefined || items.length === 0 ? [{}] : items;
  if (list.length > MAX_RULES) return issues.error('spec.rules', `at most ${MAX_RULES} rules, got ${list.length}`);
  const rules: RouteRule[] = [];
  let valid = true;
  for (const [index, item] of list.entries()) {
    const at = `spec.rules[${index}]`;
    const fields = readItem(issues, item, at);
    const rule = fields && readRule(issues, fields, at, kind, namespace);
    if (rule === undefined) valid = false;
    else if (rule.name !== null && rules.some((seen) => seen.name === rule.name)) {
      issues.error(`${at}.name`, `${describe(rule.name)} names another rule too`);
      valid = false;
    } else {
      rules.push(rule);
    }
  }
  return valid ? rules : undefined;
}

function readRule(issues: FieldIssues, fields: Fields, at: string, kind: KindSpec, namespace: string): RouteRule | undefined {
  const name = readString(issues, fields, 'name', at, false) ?? null;
  if (name !== null && !SECTION_NAME.test(name)) issues.error(`${at}.name`, `must be a DNS label, got ${describe(name)}`);
  const matches = kind.readMatches(issues, fields, at);
  const filters = readFilters(issues, fields, at, kind.ruleFilters, namespace);
  const backendRefs = readBackendRefs(issues, fields, at, kind, namespace);
  const timeouts = readTimeouts(issues, fields, at, kind);
  if (matches === undefined || filters === undefined || backendRefs === undefined || timeouts === undefined) return undefined;
  if (filters.rewrite?.path?.type === 'ReplacePrefixMatch' || filters.redirect?.path?.type === 'ReplacePrefixMatch') {
    if (matches.some((match) => match.path.type !== 'PathPrefix')) {
      return issues.error(`${at}.filters`, 'ReplacePrefixMatch needs every match of the rule to be a PathPrefix match');
    }
  }
  if (name !== null && !SECTION_NAME.test(name)) return undefined;
  return { name, matches, filters, backendRefs, timeouts };
}

function readBackendRefs(issues: FieldIssues, rule: Fields, at: string, kind: KindSpec, namespace: string): BackendRef[] | undefined {
  const items = readList(issues, rule, 'backendRefs', at, false);
  if (items === undefined) return has(rule, 'backendRefs') ? undefined : [];
  if (items.length > MAX_BACKENDS) return issues.error(`${at}.backendRefs`, `at most ${MAX_BACKENDS} backendRefs, got ${items.length}`);
  const refs: BackendRef[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const where = `${at}.backendRefs[${index}]`;
    const fields = readItem(issues, item, where);
    const ref = fields && readObjectReference(issues, fields, where, namespace);
    const weight = fields && readWeight(issues, fields, where);
    const filters = fields && readFilters(issues, fields, where, kind.backendFilters, namespace);
    if (ref === undefined || weight === undefined || filters === undefined) valid = false;
    else refs.push({ ...ref, weight, filters });
  }
  return valid ? refs : undefined;
}

function readWeight(issues: FieldIssues, fields: Fields, at: string): number | undefined {
  if (!has(fields, 'weight')) return 1;
  return readWhole(issues, fields['weight'], `${at}.weight`, 0, MAX_WEIGHT);
}

const NO_TIMEOUTS: RouteTimeouts = { requestMs: null, backendRequestMs: null };

function readTimeouts(issues: FieldIssues, rule: Fields, at: string, kind: KindSpec): RouteTimeouts | undefined {
  const timeouts = readMapping(issues, rule, 'timeouts', at, false);
  if (timeouts === undefined) return has(rule, 'timeouts') ? undefined : NO_TIMEOUTS;
  if (!kind.timeouts) {
    issues.warning(`${at}.timeouts`, 'not a field of this kind; ignored');
    return NO_TIMEOUTS;
  }
  const requestMs = readDuration(issues, timeouts, 'request', `${at}.timeouts`);
  const backendRequestMs = readDuration(issues, timeouts, 'backendRequest', `${at}.timeouts`);
  if (requestMs === undefined || backendRequestMs === undefined) return undefined;
  if (requestMs !== null && requestMs > 0 && backendRequestMs !== null && (backendRequestMs === 0 || backendRequestMs > requestMs)) {
    return issues.error(`${at}.timeouts.backendRequest`, 'must not be longer than timeouts.request');
  }
  return { requestMs, backendRequestMs };
}

/** Milliseconds; `0s` disables the timeout (0). */
function readDuration(issues: FieldIssues, fields: Fields, key: string, at: string): number | null | undefined {
  const text = readString(issues, fields, key, at, false);
  if (text === undefined) return has(fields, key) ? undefined : null;
  if (!DURATION.test(text)) return issues.error(`${at}.${key}`, `must be a duration such as 10s, 500ms or 1m30s, got ${describe(text)}`);
  let total = 0;
  for (const term of text.matchAll(DURATION_TERM)) total += Number(term[1]) * (UNIT_MS[term[2] ?? ''] ?? 0);
  return total;
}
