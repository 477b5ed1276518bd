/**
 * ObjectMeta validation every kind goes through on the real server (ValidateObjectMeta): label
 * keys and values, annotation keys and their total size. Non-string values fail decoding (400).
 */
import { isObject, type JsonObject } from './patch.js';
import type { Cause } from './validation.js';

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/** validation.IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain ≤ 253, name ≤ 63. */
function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'"];
  const name = parts[parts.length - 1]!;
  const errors: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') errors.push('prefix part must be non-empty');
    else if (prefix.length > 253) errors.push('prefix part must be no more than 253 characters');
    else if (!PREFIX.test(prefix)) errors.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  else if (!NAME_PART.test(name)) errors.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  return errors;
}

function labelValueErrors(value: string): string[] {
  if (value.length > 63) return ['must be no more than 63 characters'];
  if (!LABEL_VALUE.test(value)) return ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"];
  return [];
}

const invalid = (field: string, value: string, message: string): Cause => ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${message}` });

/** A decode failure the real server answers with 400 before validating (a label that is not a string, ...). */
export function metadataDecodeError(kind: string, object: JsonObject): string | null {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isObject(map)) return `${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type map[string]string`;
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') return `${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal ${typeof value} into Go struct field ObjectMeta.metadata.${field} of type string (key ${JSON.stringify(key)})`;
    }
  }
  return null;
}

export function validateMetadata(object: JsonObject): Cause[] {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const causes: Cause[] = [];
  const labels = isObject(metadata.labels) ? metadata.labels : {};
  for (const [key, value] of Object.entries(labels)) {
    for (const message of qualifiedNameErrors(key)) causes.push(invalid('metadata.labels', key, message));
    for (const message of labelValueErrors(String(value))) causes.push(invalid('metadata.labels', String(value), message));
  }
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    // The real server checks annotation keys lower-cased.
    for (const message of qualifiedNameErrors(key.toLowerCase())) causes.push(invalid('metadata.annotations', key, message));
    size += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (size > ANNOTATIONS_MAX_BYTES) {
    causes.push({ field: 'metadata.annotations', reason: 'FieldValueTooLong', message: `Too long: must have at most ${ANNOTATIONS_MAX_BYTES} bytes` });
  }
  return causes;
}
