/**
 * TrafficSplit, split.smi-spec.io v1alpha1–v1alpha4. The shape is the same in every version;
 * v1alpha1 weights are quantities (converted to milli-units), later ones whole numbers, and
 * `spec.matches` exists from v1alpha3.
 */
import type { TrafficSplit } from './model.js';
import type { SmiObjectMeta } from './meta.js';
import { type FieldIssues, type Fields, describe, has, readEnum, readItem, readList, readMapping, readString } from './fields.js';
import { parseQuantityMilli } from './quantity.js';

/**
 * The largest weight accepted (after v1alpha1 conversion): keeps the sum of any realistic
 * number of backends an exact integer.
 */
export const MAX_WEIGHT = 1_000_000_000_000;

export function parseTrafficSplit(issues: FieldIssues, raw: Fields, alpha: number, meta: SmiObjectMeta): TrafficSplit | undefined {
  const spec = readMapping(issues, raw, 'spec', '', true);
  if (spec === undefined) return undefined;
  const service = readString(issues, spec, 'service', 'spec', true);
  const backends = readBackends(issues, spec, alpha);
  const matches = readMatches(issues, spec, alpha);
  if (service === undefined || backends === undefined || matches === undefined) return undefined;
  return { ...meta, kind: 'TrafficSplit', service, backends, matches };
}

type Backend = TrafficSplit['backends'][number];

function readBackends(issues: FieldIssues, spec: Fields, alpha: number): Backend[] | undefined {
  const items = readList(issues, spec, 'backends', 'spec', true);
  if (items === undefined) return undefined;
  const backends: Backend[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const at = `spec.backends[${index}]`;
    const backend = readItem(issues, item, at);
    const service = backend && readString(issues, backend, 'service', at, true);
    const weight = backend && readWeight(issues, backend, `${at}.weight`, alpha);
    if (service === undefined || weight === undefined) {
      valid = false;
    } else if (backends.some((seen) => seen.service === service)) {
      issues.error(`${at}.service`, `${describe(service)} is listed twice`);
      valid = false;
    } else {
      backends.push({ service, weight });
    }
  }
  return valid ? backends : undefined;
}

function readWeight(issues: FieldIssues, backend: Fields, at: string, alpha: number): number | undefined {
  const value = backend['weight'];
  if (value === undefined || value === null) return issues.error(at, 'required');
  if (alpha === 1) {
    const quantity = parseQuantityMilli(value, MAX_WEIGHT);
    return quantity.ok ? quantity.milli : issues.error(at, `${quantity.reason}, got ${describe(value)}`);
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return issues.error(at, `must be a non-negative whole number, got ${describe(value)}`);
  }
  if (value > MAX_WEIGHT) return issues.error(at, `must be at most ${MAX_WEIGHT}, got ${describe(value)}`);
  return value;
}

/** HTTPRouteGroup names from `spec.matches` (v1alpha3+); older versions have no such field. */
function readMatches(issues: FieldIssues, spec: Fields, alpha: number): string[] | undefined {
  if (alpha < 3) {
    if (has(spec, 'matches')) issues.warning('spec.matches', `not a field of split.smi-spec.io/v1alpha${alpha} (added in v1alpha3); ignored`);
    return [];
  }
  const items = readList(issues, spec, 'matches', 'spec', false) ?? [];
  const names: string[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const at = `spec.matches[${index}]`;
    const match = readItem(issues, item, at);
    const kind = match && readEnum(issues, match, 'kind', at, ['HTTPRouteGroup']);
    const name = match && readString(issues, match, 'name', at, true);
    if (kind === undefined || name === undefined) valid = false;
    else if (!names.includes(name)) names.push(name);
  }
  return valid ? names : undefined;
}
