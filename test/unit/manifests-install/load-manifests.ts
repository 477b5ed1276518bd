/** Test helper: every document of every file in manifests/, parsed with the yaml package. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../helpers/paths.js';

export const MANIFESTS = join(REPO_ROOT, 'manifests');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Manifest {
  readonly file: string;
  readonly object: JsonObject;
}

export const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every file of the folder (kubectl applies them all), in the order kubectl applies them. */
export function manifestFiles(): string[] {
  return readdirSync(MANIFESTS).sort();
}

export function loadManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of manifestFiles()) {
    for (const doc of parseAllDocuments(readFileSync(join(MANIFESTS, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const object = doc.toJS() as Json;
      if (object === null) continue;
      if (!isObject(object)) throw new Error(`${file}: a document is not a mapping`);
      out.push({ file, object });
    }
  }
  return out;
}

/** A nested field, or undefined. */
export function at(value: Json | undefined, ...path: Array<string | number>): Json | undefined {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = isObject(current) ? current[key] : undefined;
  }
  return current;
}

export function find(manifests: readonly Manifest[], kind: string, name: string, namespace?: string): JsonObject {
  const found = manifests.find((m) => m.object['kind'] === kind && at(m.object, 'metadata', 'name') === name && (namespace === undefined || at(m.object, 'metadata', 'namespace') === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name} in manifests/`);
  return found.object;
}
