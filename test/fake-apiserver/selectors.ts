/**
 * Label and field selectors as the API server parses them. A malformed selector is a
 * `SelectorError` (the server answers 400 BadRequest).
 */
export class SelectorError extends Error {}

type LabelRequirement =
  | { readonly op: 'eq' | 'neq'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'notexists'; readonly key: string };

export type LabelSelector = readonly LabelRequirement[];

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside a `(...)` value set. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string): string {
  if (!LABEL_KEY.test(key)) throw new SelectorError(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (!LABEL_VALUE.test(value)) throw new SelectorError(`invalid label value: "${value}"`);
  return value;
}

function parseRequirement(text: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text);
  if (set) {
    const values = set[3]!.split(',').map((v) => checkValue(v.trim()));
    return { op: set[2] === 'in' ? 'in' : 'notin', key: checkKey(set[1]!), values };
  }
  const compare = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (compare) {
    return { op: compare[2] === '!=' ? 'neq' : 'eq', key: checkKey(compare[1]!), value: checkValue(compare[3]!) };
  }
  if (text.startsWith('!')) return { op: 'notexists', key: checkKey(text.slice(1).trim()) };
  if (/^\S+$/.test(text)) return { op: 'exists', key: checkKey(text) };
  throw new SelectorError(`unable to parse requirement: "${text}"`);
}

export function parseLabelSelector(text: string | null): LabelSelector {
  if (!text) return [];
  return splitTopLevel(text).map(parseRequirement);
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((req) => {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.op) {
      case 'eq': return has && value === req.value;
      case 'neq': return !has || value !== req.value;
      case 'in': return has && req.values.includes(value!);
      case 'notin': return !has || !req.values.includes(value!);
      case 'exists': return has;
      case 'notexists': return !has;
    }
  });
}

interface FieldRequirement {
  readonly field: string;
  readonly equal: boolean;
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Field paths each kind supports (`metadata.name` and `metadata.namespace` are universal). */
const KIND_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec.nodeName', 'spec.serviceAccountName', 'status.phase', 'status.podIP'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'reason', 'type'],
  Secret: ['type'],
  Namespace: ['status.phase'],
};

export function parseFieldSelector(text: string | null, kind: string): FieldSelector {
  if (!text) return [];
  const allowed = ['metadata.name', 'metadata.namespace', ...(KIND_FIELDS[kind] ?? [])];
  return splitTopLevel(text).map((part) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!match) throw new SelectorError(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = match[1]!.trim();
    if (!allowed.includes(field)) {
      throw new SelectorError(`field label not supported: ${field}`);
    }
    return { field, equal: match[2] !== '!=', value: match[3]!.trim() };
  });
}

function fieldValue(object: Readonly<Record<string, unknown>>, path: string): string {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return '';
    current = (current as Record<string, unknown>)[part];
  }
  return typeof current === 'string' ? current : '';
}

export function matchesFields(selector: FieldSelector, object: Readonly<Record<string, unknown>>): boolean {
  return selector.every((req) => (fieldValue(object, req.field) === req.value) === req.equal);
}
