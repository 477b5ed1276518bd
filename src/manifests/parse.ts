/**
 * Kubernetes YAML (or JSON) text → raw objects with their file and line. Pure: no I/O.
 *
 * - Multi-document files; empty documents (only comments, `---` alone, `~`) are skipped.
 * - `kind: List` and typed lists (`TrafficSplitList`, …) are expanded to their items; a typed
 *   list's items get the list's apiVersion and item kind when they omit them, as the API does.
 * - A YAML syntax error anywhere in a file makes the whole file contribute no objects: a file
 *   half-read would silently drop objects, while "unchanged until fixed" lets a watcher keep
 *   the last good version.
 * - A document that is not a mapping, or lacks apiVersion or kind, is an error; the file's other
 *   documents still load (each document stands alone, like `kubectl apply`).
 * - Plain block-style files (what kubectl, Helm and kustomize write) are read by block-yaml.ts,
 *   ~20× faster; anything else, and every error, by the `yaml` package (same values either way).
 */
import { type Document, LineCounter, isMap, isNode, isSeq, parseAllDocuments } from 'yaml';
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

/** Bounds alias expansion ("billion laughs") well below anything that could exhaust memory. */
const MAX_ALIAS_COUNT = 100;

export function parseManifestText(text: string, file: string): ManifestParseResult {
  const fast = readBlockYaml(text);
  if (fast !== null) {
    return manifestObjects(fast.map((document) => ({ line: document.line, value: () => document.value, itemLines: () => document.itemLines })), file);
  }
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const lineOf = (offset: number | undefined): number => Math.max(1, lineCounter.linePos(offset ?? 0).line);

  const syntaxErrors: ManifestError[] = [];
  for (const document of documents) {
    for (const error of document.errors) {
      syntaxErrors.push({ file, line: lineOf(errorOffset(text, error.pos[0])), message: `YAML syntax error: ${error.message.split('\n')[0] ?? ''}` });
    }
  }
  if (syntaxErrors.length > 0) return { objects: [], errors: syntaxErrors };
  return manifestObjects(documents.map((document) => ({
    line: lineOf(document.contents?.range[0] ?? document.range[0]),
    value: () => document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }),
    itemLines: () => itemNodeLines(document, lineOf),
  })), file);
}

/** One parsed document, from either reader. */
interface ParsedDocument {
  /** The line of its content. */
  readonly line: number;
  /** Its value; throws when it cannot be built (too many aliases). */
  value(): unknown;
  /** The line of each entry of its top-level `items` sequence. */
  itemLines(): readonly number[];
}

/** The objects of the documents (Lists expanded), and the errors of those that are not objects. */
function manifestObjects(documents: readonly ParsedDocument[], file: string): ManifestParseResult {
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

/**
 * Where to report an error found at `offset`. The parser reports what it found missing at the end
 * of the input (an unclosed `[` or quote) at the offset just past the last byte, which is the start
 * of a line that does not exist when the file ends with a newline: report the last line that has
 * text instead, so an error on the last line of a 58-line file is at line 58, not 59.
 */
function errorOffset(text: string, offset: number): number {
  if (offset < text.length) return offset;
  return Math.max(0, text.trimEnd().length - 1);
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

/** The line of each entry of the document's top-level `items` sequence. */
function itemNodeLines(document: Document, lineOf: (offset: number | undefined) => number): number[] {
  const contents = document.contents;
  if (!isMap(contents)) return [];
  const items = contents.get('items', true);
  if (!isSeq(items)) return [];
  return items.items.map((node) => lineOf(isNode(node) ? node.range?.[0] : undefined));
}
