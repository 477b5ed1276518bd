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
import { manifestObjects, readBlockManifest, type ManifestParseResult } from './documents.js';
import type { ManifestError } from './errors.js';

export type { LocatedObject, ManifestParseResult } from './documents.js';

/** Bounds alias expansion ("billion laughs") well below anything that could exhaust memory. */
const MAX_ALIAS_COUNT = 100;

export function parseManifestText(text: string, file: string): ManifestParseResult {
  const fast = readBlockManifest(text, file);
  if (fast !== null) return fast;
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

/** The line of each entry of the document's top-level `items` sequence. */
function itemNodeLines(document: Document, lineOf: (offset: number | undefined) => number): number[] {
  const contents = document.contents;
  if (!isMap(contents)) return [];
  const items = contents.get('items', true);
  if (!isSeq(items)) return [];
  return items.items.map((node) => lineOf(isNode(node) ? node.range?.[0] : undefined));
}
