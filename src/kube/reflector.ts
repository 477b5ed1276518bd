/**
 * A list+watch loop for one kind, kept in a local cache. Our own rather than client-node's
 * informer, which stops for good on a watch error (the caller must notice and restart it), lists
 * without paging, and forgets the kind of listed built-in objects.
 *
 * - Lists in pages (limit/continue); a 410 on a continue token restarts the list.
 * - Watches from the list's resourceVersion with bookmarks; a clean end, a client timeout or a
 *   stream cut after it was serving re-watches from the last resourceVersion seen; a 410 (ERROR
 *   event or status) relists.
 * - Any other failure backs off and retries: the cache is kept meanwhile (last known state).
 * - An object whose resourceVersion did not change keeps its reference across relists, so the
 *   memoizing compiler does no work for it.
 */
import type { RawObject } from '../model/snapshot.js';
import { ApiClient, KubeApiError, type WatchEvent } from './api-client.js';
import { Backoff, sleep, type BackoffPolicy } from './backoff.js';

export interface ReflectorSpec {
  /** Collection path, e.g. `/api/v1/services` or `/apis/split.smi-spec.io/v1alpha4/trafficsplits`. */
  readonly path: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface ReflectorEvents {
  /** The cache changed (after a list or a watch event). */
  readonly onChange: () => void;
  /** Healthy again, or failing with an error (retrying). */
  readonly onHealth: (error: Error | null) => void;
}

export const LIST_PAGE_SIZE = 500;
/** A watch that ends sooner than this counts as a failure for backoff purposes. */
const QUICK_END_MS = 1000;
/** Fresh lists started after expired continue tokens before the list counts as failed. */
const MAX_LIST_RESTARTS = 3;

export class Reflector {
  readonly spec: ReflectorSpec;
  readonly #client: ApiClient;
  readonly #events: ReflectorEvents;
  readonly #backoff: Backoff;
  #objects = new Map<string, RawObject>();
  #resourceVersion: string | null = null;
  #synced = false;

  constructor(client: ApiClient, spec: ReflectorSpec, events: ReflectorEvents, backoff: BackoffPolicy) {
    this.#client = client;
    this.spec = spec;
    this.#events = events;
    this.#backoff = new Backoff(backoff);
  }

  /** True once the first list completed. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The cached objects (the same references until they change). */
  objects(): IterableIterator<RawObject> {
    return this.#objects.values();
  }

  /** Runs until `signal` aborts. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === null) await this.#list(signal);
        if (signal.aborted) return;
        await this.#watch(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof KubeApiError && error.code === 410) {
          this.#resourceVersion = null;
          continue;
        }
        this.#events.onHealth(error instanceof Error ? error : new Error(String(error)));
        await sleep(this.#backoff.next(), signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, RawObject>();
    let continueToken: string | undefined;
    let listVersion = '';
    // Bounded: each restart is one request; a server that expires every token is a failure.
    let restarts = 0;
    do {
      const query: Record<string, string> = { limit: String(LIST_PAGE_SIZE) };
      if (continueToken) query.continue = continueToken;
      if (this.spec.labelSelector) query.labelSelector = this.spec.labelSelector;
      if (this.spec.fieldSelector) query.fieldSelector = this.spec.fieldSelector;
      let page: ListBody;
      try {
        page = asList(await this.#client.get(this.spec.path, query, signal));
      } catch (error) {
        // The continue token expired mid-list: start over from a fresh list.
        if (error instanceof KubeApiError && error.code === 410 && continueToken) {
          // A plain error backs off (a 410 would relist at once, again and again).
          if (restarts === MAX_LIST_RESTARTS) throw new Error(`list ${this.spec.path}: continue tokens keep expiring (${error.message})`);
          restarts += 1;
          fresh.clear();
          // '' = start over: it keeps the do-while going and sends no token (undefined would end it).
          continueToken = '';
          continue;
        }
        throw error;
      }
      for (const item of page.items) {
        const object = this.#withKind(item);
        const key = keyOf(object);
        const known = this.#objects.get(key);
        fresh.set(key, known && resourceVersionOf(known) === resourceVersionOf(object) ? known : object);
      }
      continueToken = page.continue;
      listVersion = page.resourceVersion;
    } while (continueToken !== undefined);
    this.#objects = fresh;
    this.#resourceVersion = listVersion;
    this.#synced = true;
    this.#backoff.reset();
    this.#events.onHealth(null);
    this.#events.onChange();
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const query: Record<string, string> = {
      resourceVersion: this.#resourceVersion ?? '',
      allowWatchBookmarks: 'true',
      // Server-side end after a while spreads reconnects; we resume from the last version.
      timeoutSeconds: String(240 + Math.floor(Math.random() * 120)),
    };
    if (this.spec.labelSelector) query.labelSelector = this.spec.labelSelector;
    if (this.spec.fieldSelector) query.fieldSelector = this.spec.fieldSelector;
    // An ERROR event ends this watch: abort the stream and report it after.
    let failure: KubeApiError | null = null;
    const stream = new AbortController();
    const stop = (): void => stream.abort();
    signal.addEventListener('abort', stop, { once: true });
    const started = Date.now();
    let connected = false;
    try {
      await this.#client.watch(this.spec.path, query, (event) => {
        if (failure) return;
        if (event.type === 'ERROR') {
          const code = statusCode(event.object) ?? 500;
          failure = new KubeApiError(code, '', `watch ${this.spec.path}: ${String(event.object.message ?? 'error event')}`);
          stream.abort();
        } else if (this.#apply(event)) {
          this.#events.onChange();
        }
      }, () => {
        connected = true;
        this.#events.onHealth(null);
      }, stream.signal);
    } catch (error) {
      // A stream cut after it served a while (a proxy, an API server going away) is resumed at
      // once from the last resourceVersion, as a server-side end is: only a watch that cannot be
      // established again is a failure worth reporting.
      if (!connected || error instanceof KubeApiError || Date.now() - started < QUICK_END_MS) throw error;
    } finally {
      signal.removeEventListener('abort', stop);
    }
    if (failure !== null) {
      // 410: the resourceVersion is gone, relist at once. Anything else: relist after a backoff.
      this.#resourceVersion = null;
      if ((failure as KubeApiError).code !== 410) throw failure;
    } else if (Date.now() - started < QUICK_END_MS) {
      // A server that ends watches at once must not make us spin.
      await sleep(this.#backoff.next(), signal);
    } else {
      this.#backoff.reset();
    }
  }

  /** Applies one ADDED / MODIFIED / DELETED / BOOKMARK event; true when the cache changed. */
  #apply(event: WatchEvent): boolean {
    const version = resourceVersionOf(event.object);
    if (version) this.#resourceVersion = version;
    if (event.type === 'BOOKMARK') return false;
    const object = this.#withKind(event.object);
    const key = keyOf(object);
    if (event.type === 'DELETED') return this.#objects.delete(key);
    this.#objects.set(key, object);
    return true;
  }

  /** List items of built-in kinds come without kind/apiVersion; the compiler needs both. */
  #withKind(object: Record<string, unknown>): RawObject {
    if (object.kind === this.spec.kind && object.apiVersion === this.spec.apiVersion) return object;
    return { ...object, apiVersion: this.spec.apiVersion, kind: this.spec.kind };
  }
}

interface ListBody {
  readonly items: readonly Record<string, unknown>[];
  readonly continue: string | undefined;
  readonly resourceVersion: string;
}

function asList(body: unknown): ListBody {
  const list = (typeof body === 'object' && body !== null ? body : {}) as { items?: unknown; metadata?: { continue?: unknown; resourceVersion?: unknown } };
  const items = Array.isArray(list.items) ? list.items.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null) : [];
  const token = list.metadata?.continue;
  const version = list.metadata?.resourceVersion;
  return { items, continue: typeof token === 'string' && token !== '' ? token : undefined, resourceVersion: typeof version === 'string' ? version : '' };
}

function metadataOf(object: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const metadata = object.metadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {};
}

function resourceVersionOf(object: Readonly<Record<string, unknown>>): string {
  const version = metadataOf(object).resourceVersion;
  return typeof version === 'string' ? version : '';
}

function keyOf(object: Readonly<Record<string, unknown>>): string {
  const metadata = metadataOf(object);
  return `${String(metadata.namespace ?? '')}/${String(metadata.name ?? '')}`;
}

function statusCode(object: Readonly<Record<string, unknown>>): number | undefined {
  return typeof object.code === 'number' ? object.code : undefined;
}
