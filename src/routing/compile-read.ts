/**
 * The compiler's first stage: raw objects → the catalog (typed, indexed objects). Each raw object
 * is read once (WeakMap, by identity); when a snapshot has as many objects as the one before,
 * they are compared by position and the previous catalog is patched with the replaced ones
 * instead of re-indexing all (see patchCatalog). A reader bug becomes a problem on its object.
 */
import { append } from '../model/append.js';
import { problem, type Problem, type SourceLocation } from '../model/problem.js';
import type { RawObject, Snapshot } from '../model/snapshot.js';
import { buildCatalog, patchCatalog, type Catalog, type CatalogChange, type IndexedCatalog } from './catalog.js';
import type { ReadResult } from './kube/types.js';
import { readObject, type ReadObject } from './read-object.js';

interface ReadEntry {
  readonly source: SourceLocation | undefined;
  readonly result: ReadResult<ReadObject>;
}

/** The previous compile's input, by position, and the catalog built from it. */
interface LastRead {
  /** A copy: callers may edit their snapshot's array in place between compiles. */
  readonly raws: readonly RawObject[];
  readonly entries: readonly ReadEntry[];
  readonly catalog: IndexedCatalog;
}

/** A read: the catalog, and the objects replaced in the previous read's catalog to make it (null: built anew). */
export interface CatalogRead {
  readonly catalog: Catalog;
  readonly changes: readonly CatalogChange[] | null;
}

export class CatalogReader {
  private readonly reads = new WeakMap<RawObject, ReadEntry>();
  private lastRead: LastRead | null = null;

  /** Reads every object of `snapshot` and indexes them; what cannot be read goes to `problems`. */
  read(snapshot: Snapshot, problems: Problem[]): CatalogRead {
    const raws = snapshot.objects;
    const last = this.lastRead;
    const samePositions = last !== null && last.raws.length === raws.length;
    const entries: ReadEntry[] = new Array<ReadEntry>(raws.length);
    const changes: CatalogChange[] = [];
    let patch = samePositions;
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]!;
      const source = snapshot.sources?.get(raw);
      const before = samePositions ? last.entries[i]! : undefined;
      let entry = before !== undefined && last!.raws[i] === raw ? before : this.reads.get(raw);
      if (!entry || entry.source !== source) {
        entry = { source, result: readSafely(raw, source) };
        this.reads.set(raw, entry);
      }
      entries[i] = entry;
      if (entry.result.problems.length > 0) append(problems, entry.result.problems);
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
    this.lastRead = { raws: [...raws], entries, catalog };
    return { catalog, changes: patched };
  }
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
