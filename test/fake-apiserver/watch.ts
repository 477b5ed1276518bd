/**
 * One watch stream: chunked JSON lines of `{type, object}`. Starts with the current objects
 * (no resourceVersion, or `0`) or with the stored events after a resourceVersion (410 as an
 * ERROR event when compacted), then follows the store. Objects entering or leaving a selector
 * are sent as ADDED / DELETED, as the real server's watch cache does.
 */
import type { ServerResponse } from 'node:http';
import type { JsonObject } from './patch.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import * as status from './status.js';
import { TooOldResourceVersionError, type Store, type StoredEvent } from './store.js';

export interface WatchRequest {
  readonly type: ResourceType;
  readonly storage: string;
  /** Namespace, label and field selection (null = no object). */
  readonly matches: (object: JsonObject | null) => boolean;
  /** The object as read through the watched version. */
  readonly present: (object: JsonObject) => JsonObject;
  readonly query: Readonly<Record<string, string>>;
  readonly bookmarkIntervalMs: number;
}

export interface WatchStream {
  readonly response: ServerResponse;
  readonly close: () => void;
  /** Goes quiet (a hung server): events are held, no bookmarks, until resume(). */
  readonly pause: () => void;
  readonly resume: () => void;
}

/** Answers 400 (thrown as ApiError) for a malformed resourceVersion before anything is sent. */
export function openWatch(store: Store, request: WatchRequest, res: ServerResponse, onClose: (stream: WatchStream) => void): WatchStream | null {
  const { type, storage, matches, present, query } = request;
  const requested = query.resourceVersion ?? '';
  if (requested !== '' && !/^\d+$/.test(requested)) throw status.badRequest(`invalid resource version: "${requested}"`);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // The real server sends the headers at once; a client waits for them before reading events.
  res.flushHeaders();
  let paused: object[] | null = null;
  const write = (event: object): void => {
    if (paused) paused.push(event);
    else res.write(`${JSON.stringify(event)}\n`);
  };
  const emit = (event: StoredEvent): void => {
    if (event.storage !== storage) return;
    const before = matches(event.previous);
    const now = event.type !== 'DELETED' && matches(event.object);
    let kind: string | null = null;
    if (event.type === 'DELETED') kind = before ? 'DELETED' : null;
    else if (before && now) kind = 'MODIFIED';
    else if (now) kind = 'ADDED';
    else if (before) kind = 'DELETED';
    if (kind) write({ type: kind, object: present(event.object) });
  };

  let backlog: StoredEvent[] = [];
  let initial: JsonObject[] = [];
  if (requested === '' || requested === '0') {
    initial = store.list(storage).filter((o) => matches(o));
  } else {
    try {
      backlog = store.eventsSince(storage, Number(requested));
    } catch (error) {
      if (!(error instanceof TooOldResourceVersionError)) throw error;
      write({ type: 'ERROR', object: status.gone(error.message).status });
      res.end();
      return null;
    }
  }
  for (const object of initial) write({ type: 'ADDED', object: present(object) });
  for (const event of backlog) emit(event);
  const unsubscribe = store.subscribe(emit);

  const timers: NodeJS.Timeout[] = [];
  if (query.allowWatchBookmarks === 'true') {
    const bookmark = (): void => void (paused === null && write({
      type: 'BOOKMARK',
      object: { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.resourceVersion) } },
    }));
    timers.push(setInterval(bookmark, request.bookmarkIntervalMs));
  }
  let closed = false;
  const stream: WatchStream = {
    response: res,
    close: () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const timer of timers) clearInterval(timer);
      onClose(stream);
      if (!res.writableEnded) res.end();
    },
    pause: () => {
      paused ??= [];
    },
    resume: () => {
      const held = paused ?? [];
      paused = null;
      for (const event of held) write(event);
    },
  };
  if (query.timeoutSeconds) timers.push(setTimeout(stream.close, Number(query.timeoutSeconds) * 1000));
  res.on('close', stream.close);
  return stream;
}
