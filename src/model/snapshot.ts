/**
 * The compiler's input: what a provider (file or kube) has seen, as raw Kubernetes objects.
 * Objects are kept raw (as parsed from YAML/JSON) because each one is validated on its own by
 * the compiler: a malformed object becomes a problem, never an exception.
 */
import type { SourceLocation } from './problem.js';

export type RawObject = Readonly<Record<string, unknown>>;

/** Where objects came from: looked up one object at a time (a Map, or a provider's layered map). */
export interface SourceLookup {
  get(object: RawObject): SourceLocation | undefined;
}

export interface Snapshot {
  /** Services, EndpointSlices, Endpoints, Pods, Namespaces and SMI objects, in any order. */
  readonly objects: readonly RawObject[];
  /** Where an object came from (file provider), so its problems can point at the file and line. */
  readonly sources?: SourceLookup;
  /** Names this snapshot for the `changes` of a later one (any object, compared by identity). */
  readonly version?: object;
  /**
   * What changed since the snapshot whose `version` is `changes.since`, when the provider knows:
   * a compiler that compiled that one can read just these objects instead of all of them.
   */
  readonly changes?: SnapshotChanges;
}

/**
 * Objects that left and objects that came, by identity: a replaced object is in both lists (the
 * old one removed, the new one added), and so is an unchanged object whose source location moved.
 */
export interface SnapshotChanges {
  readonly since: object;
  readonly removed: readonly RawObject[];
  readonly added: readonly RawObject[];
}

/**
 * `newer` with the changes of `older` folded in, for a queue that drops `older` unapplied: the
 * result's changes go from what `older` changed from (when both have changes and `newer`'s
 * follow `older`); else `newer` without changes (its reader compares every object).
 */
export function foldChanges(older: Snapshot, newer: Snapshot): Snapshot {
  const first = older.changes;
  const second = newer.changes;
  if (first === undefined || second === undefined || second.since !== older.version) return withoutChanges(newer);
  const addedFirst = new Set(first.added);
  const removedSecond = new Set(second.removed);
  const removed = [...first.removed];
  for (const object of second.removed) if (!addedFirst.has(object)) removed.push(object);
  const added: RawObject[] = [];
  for (const object of first.added) if (!removedSecond.has(object)) added.push(object);
  for (const object of second.added) added.push(object);
  return { ...newer, changes: { since: first.since, removed, added } };
}

function withoutChanges(snapshot: Snapshot): Snapshot {
  const { changes, ...rest } = snapshot;
  return changes === undefined ? snapshot : rest;
}
