/**
 * TrafficTarget, access.smi-spec.io v1alpha1–v1alpha3. v1alpha1 keeps destination, `specs` and
 * sources at the top level; v1alpha2 moves them under `spec` and renames `specs` to `rules`;
 * v1alpha3 drops `destination.port`, adds UDPRoute rules and requires a destination, a rule and
 * a source.
 */
import type { ServiceAccountRef, TrafficTarget, TrafficTargetRule, TrafficTargetRuleKind } from './model.js';
import type { SmiObjectMeta } from './meta.js';
import { type FieldIssues, type Fields, describe, has, readEnum, readItem, readList, readMapping, readPort, readString } from './fields.js';

export function parseTrafficTarget(issues: FieldIssues, raw: Fields, alpha: number, meta: SmiObjectMeta): TrafficTarget | undefined {
  const body = alpha === 1 ? raw : readMapping(issues, raw, 'spec', '', true);
  if (body === undefined) return undefined;
  const path = alpha === 1 ? '' : 'spec';
  const prefix = alpha === 1 ? '' : 'spec.';

  const destinationFields = readMapping(issues, body, 'destination', path, true);
  const destination = destinationFields && readServiceAccount(issues, destinationFields, `${prefix}destination`, meta.namespace);
  const destinationPort = destinationFields && readDestinationPort(issues, destinationFields, `${prefix}destination.port`, alpha);

  const rulesKey = alpha === 1 ? 'specs' : 'rules';
  const ruleItems = readList(issues, body, rulesKey, path, alpha === 3);
  const rules = readRules(issues, ruleItems ?? [], `${prefix}${rulesKey}`, alpha);
  const sourceItems = readList(issues, body, 'sources', path, alpha === 3);
  const sources = readSources(issues, sourceItems ?? [], `${prefix}sources`, meta.namespace);

  if (alpha === 3) {
    if (ruleItems?.length === 0) issues.error(`${prefix}rules`, 'must list at least one rule');
    if (sourceItems?.length === 0) issues.error(`${prefix}sources`, 'must list at least one source');
  } else if (sources?.length === 0) {
    issues.warning(`${prefix}sources`, 'no sources: this TrafficTarget grants nothing');
  }
  if (destination === undefined || destinationPort === undefined || rules === undefined || sources === undefined) return undefined;
  return { ...meta, kind: 'TrafficTarget', destination, destinationPort, rules, sources };
}

/** A `{kind: ServiceAccount, name, namespace?}` reference; namespace defaults to the target's. */
function readServiceAccount(issues: FieldIssues, fields: Fields, at: string, defaultNamespace: string): ServiceAccountRef | undefined {
  const kind = readEnum(issues, fields, 'kind', at, ['ServiceAccount']);
  const name = readString(issues, fields, 'name', at, true);
  const namespace = readString(issues, fields, 'namespace', at, false) ?? defaultNamespace;
  return kind === undefined || name === undefined ? undefined : { name, namespace };
}

/** v1alpha1/v1alpha2 only; v1alpha3 replaced it with TCPRoute/UDPRoute ports. null = every port. */
function readDestinationPort(issues: FieldIssues, destination: Fields, at: string, alpha: number): number | null | undefined {
  if (!has(destination, 'port')) return null;
  if (alpha === 3) {
    issues.warning(at, 'not a field of access.smi-spec.io/v1alpha3 (use TCPRoute or UDPRoute ports); ignored');
    return null;
  }
  return readPort(issues, destination['port'], at);
}

function readRules(issues: FieldIssues, items: readonly unknown[], path: string, alpha: number): TrafficTargetRule[] | undefined {
  const kinds: readonly TrafficTargetRuleKind[] = alpha === 3 ? ['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'] : ['HTTPRouteGroup', 'TCPRoute'];
  const rules: TrafficTargetRule[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const at = `${path}[${index}]`;
    const fields = readItem(issues, item, at);
    const kind = fields && readEnum(issues, fields, 'kind', at, kinds);
    const name = fields && readString(issues, fields, 'name', at, true);
    const matches = fields && readMatchNames(issues, fields, at, kind);
    if (kind === undefined || name === undefined || matches === undefined) valid = false;
    else rules.push({ kind, name, matches });
  }
  return valid ? rules : undefined;
}

/** HTTPRouteGroup match names; empty = every match of the group. Other kinds have no matches. */
function readMatchNames(issues: FieldIssues, rule: Fields, at: string, kind: TrafficTargetRuleKind | undefined): string[] | undefined {
  const items = readList(issues, rule, 'matches', at, false);
  if (items === undefined) return has(rule, 'matches') ? undefined : [];
  if (kind !== undefined && kind !== 'HTTPRouteGroup') {
    if (items.length > 0) issues.warning(`${at}.matches`, `only HTTPRouteGroup rules have matches; ignored for a ${kind}`);
    return [];
  }
  const names: string[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    if (typeof item !== 'string' || item === '') {
      issues.error(`${at}.matches[${index}]`, `must be the name of an HTTPRouteGroup match, got ${describe(item)}`);
      valid = false;
    } else if (!names.includes(item)) {
      names.push(item);
    }
  }
  return valid ? names : undefined;
}

function readSources(issues: FieldIssues, items: readonly unknown[], path: string, defaultNamespace: string): ServiceAccountRef[] | undefined {
  const sources: ServiceAccountRef[] = [];
  let valid = true;
  for (const [index, item] of items.entries()) {
    const at = `${path}[${index}]`;
    const fields = readItem(issues, item, at);
    const source = fields && readServiceAccount(issues, fields, at, defaultNamespace);
    if (source === undefined) valid = false;
    else if (!sources.some((seen) => seen.name === source.name && seen.namespace === source.namespace)) sources.push(source);
  }
  return valid ? sources : undefined;
}
