/**
 * Parsed YAML documents → located raw objects (the part of parse.ts that does not need the
 * `yaml` package): `kind: List` and typed lists expanded, documents that are not objects
 * reported at their line. Also the fast path alone, `readBlockManifest`, which the serving
 * thread may run itself (parser.ts) without loading `yaml`. Pure: no I/O.
 */
import type { SourceLocation } from '../model/problem.js';
import type { RawObject } from '../model/snapshot.js';
import { readBlockYaml } from './block-yaml.js';
import type { ManifestError } from './errors.js';

export interface LocatedObject {
  readonly object: RawObject;
  readonly source: SourceLocation;
}

export interface ManifestParseResult {
  readonly objects: LocatedObject[];
  readonly errors: ManifestError[];
}

/** The file read by the fast reader (block-yaml.ts), or null when it must go to the `yaml` package. */
export function readBlockManifest(text: string, file: string): ManifestParseResult | null {
  const documents = readBlockYaml(text);
  if (documents === null) return null;
  return manifestObjects(documents.map((document) => ({ line: document.line, value: () => document.value, itemLines: () => document.itemLines })), file);
}

/** One parsed document, from either reader. */
export interface ParsedDocument {
  /** The line of its content. */
  readonly line: number;
  /** Its value; throws when it cannot be built (too many aliases). */
  value(): unknown;
  /** The line of each entry of its top-level `items` sequence. */
  itemLines(): readonly number[];
}

/** The objects of the documents (Lists expanded), and the errors of those that are not objects. */
export function manifestObjects(documents: readonly ParsedDocument[], file: string): ManifestParseResult {
  const objects: LocatedObject[] = [];
  const errors: ManifestError[] = [];
  for (const document of documents) {
    const { line } = document;
    let value: unknown;
    try {
      value = document.value();
    } catch (err) {
      errors.push({ file, line, message: err instanceof Error ? err.message : String(err) });
      continue;
    }
    if (value === null || value === undefined) continue;
    const reject = (message: string): void => void errors.push({ file, line, message });
    const object = checkObject(value, reject);
    if (object === undefined) continue;
    const items = listItems(object, reject);
    if (items === undefined) {
      objects.push({ object, source: { file, line } });
      continue;
    }
    const itemLines = document.itemLines();
    items.forEach((item, index) => {
      const itemLine = itemLines[index] ?? line;
      const located = (message: string): void => void errors.push({ file, line: itemLine, message: `items[${index}]: ${message}` });
      const listed = checkObject(withListDefaults(object, item), located);
      if (listed === undefined) return;
      if (listItems(listed, located) !== undefined) located('a List inside a List is not supported');
      else objects.push({ object: listed, source: { file, line: itemLine } });
    });
  }
  return { objects, errors };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A mapping with non-empty string apiVersion and kind, or undefined after reporting why not. */
function checkObject(value: unknown, reject: (message: string) => void): RawObject | undefined {
  if (!isMapping(value)) {
    reject(`a manifest must be a mapping, got ${Array.isArray(value) ? 'a list' : typeof value}`);
    return undefined;
  }
  const missing = ['apiVersion', 'kind'].filter((key) => typeof value[key] !== 'string' || value[key] === '');
  if (missing.length > 0) {
    reject(`a manifest needs ${missing.join(' and ')} (${missing.length > 1 ? 'non-empty strings' : 'a non-empty string'})`);
    return undefined;
  }
  return value;
}

/** The items of a `List` or typed `…List`, or undefined when `object` is not a list. */
function listItems(object: RawObject, reject: (message: string) => void): readonly unknown[] | undefined {
  const kind = object['kind'];
  const items = object['items'];
  if (kind === 'List') {
    if (Array.isArray(items)) return items;
    if (items === undefined || items === null) return [];
    reject('a List needs items (a list)');
    return [];
  }
  return typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items) ? items : undefined;
}

/** Items of a typed list (`TrafficSplitList`) may omit apiVersion and kind: take the list's. */
function withListDefaults(list: RawObject, item: unknown): unknown {
  const kind = list['kind'];
  if (kind === 'List' || typeof kind !== 'string' || !isMapping(item)) return item;
  return { apiVersion: list['apiVersion'], kind: kind.slice(0, -'List'.length), ...item };
}

