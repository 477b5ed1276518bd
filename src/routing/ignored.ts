/**
 * The objects of a snapshot that Plexus ignores on purpose (kinds it does not use, see
 * objectUse): listed by `plexus config` and logged by the agent, so that no object of a manifest
 * folder disappears without a word.
 */
import type { SourceLocation } from '../model/problem.js';
import { readIdentity } from './raw.js';
import { objectUse } from './read-object.js';
import type { Snapshot } from '../model/snapshot.js';

export interface IgnoredObject {
  readonly apiVersion: string;
  readonly kind: string;
  /** `namespace/name` (`name` alone without a namespace). */
  readonly name: string;
  readonly source?: SourceLocation;
}

/** The objects of one apiVersion and kind, in snapshot order. */
export interface IgnoredKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly objects: readonly IgnoredObject[];
}

export function ignoredObjects(snapshot: Snapshot): IgnoredKind[] {
  const byKind = new Map<string, IgnoredObject[]>();
  for (const raw of snapshot.objects) {
    if (objectUse(raw).use !== 'ignored') continue;
    const id = readIdentity(raw, false);
    const metadata = raw['metadata'];
    const namespaced = typeof metadata === 'object' && metadata !== null && 'namespace' in metadata;
    const source = snapshot.sources?.get(raw);
    const object: IgnoredObject = {
      apiVersion: id.apiVersion, kind: id.kind, name: namespaced ? `${id.namespace}/${id.name}` : id.name, ...(source ? { source } : {}),
    };
    const key = `${id.apiVersion} ${id.kind}`;
    const list = byKind.get(key);
    if (list) list.push(object);
    else byKind.set(key, [object]);
  }
  return [...byKind.values()].map((objects) => ({ apiVersion: objects[0]!.apiVersion, kind: objects[0]!.kind, objects }));
}

/** `Deployment shop/web (apps/v1, web.yaml:12)`. */
export function formatIgnored(object: IgnoredObject): string {
  const where = object.source ? `, ${object.source.file}:${object.source.line}` : '';
  return `${object.kind} ${object.name} (${object.apiVersion}${where})`;
}
