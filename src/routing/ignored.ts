/**
 * The objects of a snapshot that Plexus ignores on purpose (kinds it does not use, see
 * objectUse): listed by `plexus config` and logged by the agent, so that no object of a manifest
 * folder disappears without a word.
 */
import type { SourceLocation } from '../model/problem.js';
import { fieldsAt, stringAt, UNNAMED } from './raw.js';
import { objectUse } from './read-object.js';
import type { RawObject, Snapshot, SnapshotChanges } from '../model/snapshot.js';

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

/** Each raw object's answer, computed once: providers keep unchanged objects as the same references. */
const described = new WeakMap<RawObject, IgnoredObject | null>();

export function ignoredObjects(snapshot: Snapshot): IgnoredKind[] {
  const byKind = new Map<string, IgnoredObject[]>();
  for (const raw of snapshot.objects) {
    const object = describedOf(raw, snapshot);
    if (object === null) continue;
    const key = `${object.apiVersion} ${object.kind}`;
    const list = byKind.get(key);
    if (list) list.push(object);
    else byKind.set(key, [object]);
  }
  return [...byKind.values()].map((objects) => ({ apiVersion: objects[0]!.apiVersion, kind: objects[0]!.kind, objects }));
}

/** Whether `changes` can change what ignoredObjects lists: an ignored object left, came or moved. */
export function touchesIgnored(snapshot: Snapshot, changes: SnapshotChanges): boolean {
  return changes.removed.some((raw) => describedOf(raw, snapshot) !== null) || changes.added.some((raw) => describedOf(raw, snapshot) !== null);
}

function describedOf(raw: RawObject, snapshot: Snapshot): IgnoredObject | null {
  let object = described.get(raw);
  if (object === undefined) {
    object = objectUse(raw).use === 'ignored' ? describe(raw, snapshot.sources?.get(raw)) : null;
    described.set(raw, object);
  }
  return object;
}

function describe(raw: RawObject, source: SourceLocation | undefined): IgnoredObject {
  const metadata = fieldsAt(raw, 'metadata');
  const name = stringAt(metadata, 'name') || UNNAMED;
  const namespace = stringAt(metadata, 'namespace');
  return {
    apiVersion: stringAt(raw, 'apiVersion') ?? '', kind: stringAt(raw, 'kind') ?? '',
    name: namespace ? `${namespace}/${name}` : name, ...(source ? { source } : {}),
  };
}

/** `Deployment shop/web (apps/v1, web.yaml:12)`. */
export function formatIgnored(object: IgnoredObject): string {
  const where = object.source ? `, ${object.source.file}:${object.source.line}` : '';
  return `${object.kind} ${object.name} (${object.apiVersion}${where})`;
}
