/**
 * Test helper: the structural-schema rules of apiextensions.k8s.io/v1, plus validation and
 * pruning of a value the way the API server does it for the subset of OpenAPI the CRDs use.
 */
import { isObject, type Json, type JsonObject } from './load-manifests.js';

const ALLOWED_KEYS = new Set([
  'type', 'description', 'properties', 'items', 'required', 'enum', 'minimum', 'maximum', 'format',
  'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'additionalProperties',
]);

/** Structural-schema violations under `path` (empty when structural). */
export function structuralErrors(schema: Json | undefined, path = ''): string[] {
  if (!isObject(schema)) return [`${path}: not a schema object`];
  const errors: string[] = [];
  for (const key of Object.keys(schema)) if (!ALLOWED_KEYS.has(key)) errors.push(`${path}: ${key} is not used by these CRDs`);
  const type = schema['type'];
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (intOrString && type !== undefined) errors.push(`${path}: x-kubernetes-int-or-string must not have a type`);
  if (!intOrString && !preserve && typeof type !== 'string') errors.push(`${path}: type is required in a structural schema`);
  if (schema['properties'] !== undefined) {
    if (type !== 'object') errors.push(`${path}: properties on a non-object`);
    if (schema['additionalProperties'] !== undefined) errors.push(`${path}: properties and additionalProperties are exclusive`);
    for (const [name, sub] of Object.entries(schema['properties'] as JsonObject)) errors.push(...structuralErrors(sub, `${path}.${name}`));
  }
  if (type === 'array') {
    if (schema['items'] === undefined) errors.push(`${path}: an array needs items`);
    else errors.push(...structuralErrors(schema['items'], `${path}[]`));
  } else if (schema['items'] !== undefined) {
    errors.push(`${path}: items on a non-array`);
  }
  const required = schema['required'];
  if (required !== undefined) {
    const props = isObject(schema['properties']) ? schema['properties'] : {};
    for (const name of Array.isArray(required) ? required : []) if (typeof name !== 'string' || !(name in props)) errors.push(`${path}: required ${String(name)} is not a property`);
  }
  return errors;
}

/** Validation errors of `value` against `schema` (type, required, enum, bounds). */
export function validate(schema: JsonObject, value: Json | undefined, path = ''): string[] {
  if (value === undefined) return [];
  if (schema['x-kubernetes-int-or-string'] === true) {
    return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? [] : [`${path}: must be an integer or a string`];
  }
  const type = schema['type'];
  const errors: string[] = [];
  const typeOk =
    type === undefined ||
    (type === 'object' && isObject(value)) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'integer' && typeof value === 'number' && Number.isInteger(value)) ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'boolean' && typeof value === 'boolean');
  if (!typeOk) return [`${path}: must be ${String(type)}`];
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) errors.push(`${path}: not one of ${schema['enum'].join(', ')}`);
  if (typeof value === 'number' && typeof schema['minimum'] === 'number' && value < schema['minimum']) errors.push(`${path}: below minimum`);
  if (typeof value === 'number' && typeof schema['maximum'] === 'number' && value > schema['maximum']) errors.push(`${path}: above maximum`);
  if (isObject(value)) {
    for (const name of Array.isArray(schema['required']) ? schema['required'] : []) if (value[name as string] === undefined) errors.push(`${path}.${String(name)}: required`);
    const props = isObject(schema['properties']) ? schema['properties'] : {};
    for (const [name, sub] of Object.entries(props)) if (isObject(sub)) errors.push(...validate(sub, value[name], `${path}.${name}`));
  }
  if (Array.isArray(value) && isObject(schema['items'])) {
    const items = schema['items'];
    value.forEach((item, i) => errors.push(...validate(items, item, `${path}[${i}]`)));
  }
  return errors;
}

/** `value` with every field the schema does not know removed (API server pruning). */
export function prune(schema: JsonObject, value: Json): Json {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && schema['properties'] === undefined) return value;
  if (isObject(value) && isObject(schema['properties'])) {
    const props = schema['properties'];
    const out: JsonObject = {};
    for (const [name, v] of Object.entries(value)) {
      const sub = props[name];
      if (isObject(sub)) out[name] = name === 'metadata' ? v : prune(sub, v);
    }
    return out;
  }
  if (Array.isArray(value) && isObject(schema['items'])) {
    const items = schema['items'];
    return value.map((v) => prune(items, v));
  }
  return value;
}
