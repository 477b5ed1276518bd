/**
 * The compiler's first stage: raw objects → the catalog (typed, indexed objects). Each raw object
 * is read once (WeakMap, by identity). When the snapshot says what changed since the one read
 * last (`Snapshot.changes`), only those objects are read and the previous catalog is patched
 * with them; else, when a snapshot has as many objects as the one before, they are compared by
 * position and the catalog patched with the replaced ones (see patchCatalog); else it is built
 * anew. A reader bug becomes a problem on its object.
 */
import { append } from '../model/append.js';
import { problem, type Problem, type SourceLocation } from '../model/problem.js';
import type { RawObject, Snapshot, SnapshotChanges } from '../model/snapshot.js';
import { buildCatalog, patchCatalog, type Catalog, type CatalogChange, type IndexedCatalog } from './catalog.js';
import type { ReadResult } from './kube/types.js';
import { readObject, type ReadObject } from './read-object.js';

interface ReadEntry {
  readonly source: SourceLocation | undefined;
  readonly result: ReadResult<ReadObject>;
}

/** The previous compile's input, by position, and the catalog built from it. */
interface LastRead {
  /** A copy: callers may edit their snapshot's array in place between compiles. Null after a read of changes. */
  readonly raws: readonly RawObject[] | null;
  readonly entries: readonly ReadEntry[];
  readonly catalog: IndexedCatalog;
  /** The snapshot's `version`: a later snapshot's changes since it can be read alone. */
  readonly version: object | undefined;
  /** The read problems of the objects that have some. */
  readonly problems: Map<RawObject, readonly Problem[]>;
}

/** A read: the catalog, and the objects replaced in the previous read's catalog to make it (null: built anew). */
export interface CatalogRead {
  readonly catalog: Catalog;
  readonly changes: readonly CatalogChange[] | null;
}

export class CatalogReader {
  private readonly reads = new WeakMap<RawObject, ReadEntry>();
  private lastRead: LastRead | null = null;

  /** Reads the objects of `snapshot` and indexes them; what cannot be read goes to `problems`. */
  read(snapshot: Snapshot, problems: Problem[]): CatalogRead {
    const last = this.lastRead;
    const changes = snapshot.changes;
    if (last !== null && changes !== undefined && last.version !== undefined && changes.since === last.version) {
      const read = this.readChanges(snapshot, changes, last);
      if (read !== null) {
        for (const list of last.problems.values()) append(problems, list);
        return read;
      }
    }
    return this.readAll(snapshot, problems);
  }

  /**
   * Only the changed objects read, the last catalog patched with them; null (the catalog
   * untouched) when they do not pair up as replacements patchCatalog can apply.
   */
  private readChanges(snapshot: Snapshot, changes: SnapshotChanges, last: LastRead): CatalogRead | null {
    const leaving = new Map<string, ReadObject>();
    for (const raw of changes.removed) {
      const object = this.reads.get(raw)?.result.object;
      if (object === undefined) return null;
      if (object === null) continue;
      const key = changeKey(object);
      if (leaving.has(key)) return null;
      leaving.set(key, object);
    }
    const added: [RawObject, ReadEntry][] = [];
    const replaced: CatalogChange[] = [];
    for (const raw of changes.added) {
      const entry = this.entryOf(raw, snapshot.sources?.get(raw));
      added.push([raw, entry]);
      const object = entry.result.object;
      if (object === null) continue;
      const before = leaving.get(changeKey(object));
      if (before === undefined) return null;
      leaving.delete(changeKey(object));
      if (before !== object) replaced.push({ before, after: object });
    }
    if (leaving.size > 0 || !patchCatalog(last.catalog, replaced)) return null;
    for (const raw of changes.removed) last.problems.delete(raw);
    for (const [raw, entry] of added) if (entry.result.problems.length > 0) last.problems.set(raw, entry.result.problems);
    this.lastRead = { raws: null, entries: [], catalog: last.catalog, version: snapshot.version, problems: last.problems };
    return { catalog: last.catalog, changes: replaced };
  }

  private entryOf(raw: RawObject, source: SourceLocation | undefined): ReadEntry {
    let entry = this.reads.get(raw);
    if (!entry || entry.source !== source) {
      entry = { source, result: readSafely(raw, source) };
      this.reads.set(raw, entry);
    }
    return entry;
  }

  private readAll(snapshot: Snapshot, problems: Problem[]): CatalogRead {
    const raws = snapshot.objects;
    const last = this.lastRead;
    const samePositions = last !== null && last.raws !== null && last.raws.length === raws.length;
    const entries: ReadEntry[] = new Array<ReadEntry>(raws.length);
    const changes: CatalogChange[] = [];
    const readProblems = new Map<RawObject, readonly Problem[]>();
    let patch = samePositions;
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]!;
      const source = snapshot.sources?.get(raw);
      const before = samePositions ? last.entries[i]! : undefined;
      const kept = before !== undefined && last!.raws![i] === raw && before.source === source ? before : undefined;
      const entry = kept ?? this.entryOf(raw, source);
      entries[i] = entry;
      if (entry.result.problems.length > 0) {
        append(problems, entry.result.problems);
        readProblems.set(raw, entry.result.problems);
      }
      if (patch && entry !== before) {
        const old = before!.result.object;
        const now = entry.result.object;
        if (old !== now) {
          if (old && now) changes.push({ before: old, after: now });
          else patch = false;
        }
      }
    }
    let catalog: IndexedCatalog;
    let patched: readonly CatalogChange[] | null = null;
    if (patch && patchCatalog(last!.catalog, changes)) {
      catalog = last!.catalog;
      patched = changes;
    } else {
      const objects: ReadObject[] = [];
      for (const entry of entries) if (entry.result.object) objects.push(entry.result.object);
      catalog = buildCatalog(objects);
    }
    this.lastRead = { raws: [...raws], entries, catalog, version: snapshot.version, problems: readProblems };
    return { catalog, changes: patched };
  }
}

/** Kind, namespace and name: what pairs a removed object with the one replacing it. */
function changeKey(object: ReadObject): string {
  return `${object.kind} ${'id' in object ? object.id.namespace : object.namespace}/${'id' in object ? object.id.name : object.name}`;
}

/** A reader bug must not take the whole compile down: it becomes a problem on that object. */
function readSafely(raw: RawObject, source: SourceLocation | undefined): ReadResult<ReadObject> {
  try {
    return readObject(raw, source);
  } catch (error) {
    const metadata = typeof raw.metadata === 'object' && raw.metadata !== null ? raw.metadata as Record<string, unknown> : {};
    const ref = {
      kind: typeof raw.kind === 'string' ? raw.kind : 'Object',
      namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
      name: typeof metadata.name === 'string' && metadata.name ? metadata.name : '(unnamed)',
    };
    return { object: null, problems: [problem(ref, `could not be read: ${error instanceof Error ? error.message : String(error)}`, 'error', source)] };
  }
}
