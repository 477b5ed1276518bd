/**
 * The fake server's etcd: objects by kind, one global resourceVersion counter, the event history
 * watches resume from, and compaction. It outlives the HTTP server (stop/restart keep the data).
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject } from './patch.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly rv: number;
  readonly storage: string;
  readonly type: WatchEventType;
  readonly object: JsonObject;
  /** The object before this change (absent for ADDED). */
  readonly previous: JsonObject | null;
}

export type EventListener = (event: StoredEvent) => void;

export class TooOldResourceVersionError extends Error {
  constructor(readonly requested: number, readonly oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

export function objectKeyOf(object: JsonObject): string {
  const metadata = object.metadata as JsonObject;
  return `${(metadata.namespace as string | undefined) ?? ''}/${metadata.name as string}`;
}

export class Store {
  private readonly kinds = new Map<string, Map<string, JsonObject>>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private revision = 1;
  /** Events at or below this revision are gone: watching from before it is 410 Gone. */
  private compactedRevision = 0;

  get resourceVersion(): number {
    return this.revision;
  }

  get compactedResourceVersion(): number {
    return this.compactedRevision;
  }

  private kind(storage: string): Map<string, JsonObject> {
    let objects = this.kinds.get(storage);
    if (!objects) {
      objects = new Map();
      this.kinds.set(storage, objects);
    }
    return objects;
  }

  get(storage: string, namespace: string, name: string): JsonObject | undefined {
    return this.kinds.get(storage)?.get(`${namespace}/${name}`);
  }

  /** Objects of a kind in key order (namespace, then name), as etcd returns them. */
  list(storage: string): JsonObject[] {
    const objects = this.kinds.get(storage);
    if (!objects) return [];
    return [...objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
  }

  /** The kind's objects as they were at `rv`, rebuilt from the history (410 when compacted). */
  listAt(storage: string, rv: number): JsonObject[] {
    if (rv < this.compactedRevision) throw new TooOldResourceVersionError(rv, this.compactedRevision);
    const objects = new Map(this.kinds.get(storage) ?? []);
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.rv > rv; i--) {
      const event = this.history[i]!;
      if (event.storage !== storage) continue;
      const key = objectKeyOf(event.object);
      if (event.type === 'ADDED') objects.delete(key);
      else objects.set(key, event.previous!);
    }
    return [...objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
  }

  /** Writes an object, stamping resourceVersion (and uid/creationTimestamp on create). */
  put(storage: string, object: JsonObject): JsonObject {
    const key = objectKeyOf(object);
    const objects = this.kind(storage);
    const previous = objects.get(key) ?? null;
    this.revision++;
    const metadata = object.metadata as JsonObject;
    metadata.resourceVersion = String(this.revision);
    if (!previous) {
      metadata.uid = randomUUID();
      metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    }
    objects.set(key, object);
    this.record({ rv: this.revision, storage, type: previous ? 'MODIFIED' : 'ADDED', object, previous });
    return object;
  }

  remove(storage: string, namespace: string, name: string): JsonObject | undefined {
    const objects = this.kinds.get(storage);
    const key = `${namespace}/${name}`;
    const previous = objects?.get(key);
    if (!objects || !previous) return undefined;
    objects.delete(key);
    this.revision++;
    // The DELETED event carries the object at the deletion's resourceVersion, as etcd3 does.
    const deleted = structuredClone(previous);
    (deleted.metadata as JsonObject).resourceVersion = String(this.revision);
    this.record({ rv: this.revision, storage, type: 'DELETED', object: deleted, previous });
    return deleted;
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    for (const listener of this.listeners) listener(event);
  }

  /** Events of a kind after `rv`, for a watch resuming there. */
  eventsSince(storage: string, rv: number): StoredEvent[] {
    if (rv < this.compactedRevision) throw new TooOldResourceVersionError(rv, this.compactedRevision);
    return this.history.filter((e) => e.rv > rv && e.storage === storage);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the whole history: resuming from any earlier resourceVersion is now 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.compactedRevision = this.revision;
  }

  /** Deletes every object of a kind (its CustomResourceDefinition was deleted). */
  dropKind(storage: string): void {
    for (const object of this.list(storage)) {
      const metadata = object.metadata as JsonObject;
      this.remove(storage, (metadata.namespace as string | undefined) ?? '', metadata.name as string);
    }
    this.kinds.delete(storage);
  }
}
