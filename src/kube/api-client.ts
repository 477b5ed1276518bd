/**
 * Requests and watches of any API path through client-node's authentication and transport (TLS,
 * bearer tokens re-read from disk, exec plugins). Plexus talks to kinds generically, by path,
 * and sends exactly the JSON the API server expects.
 */
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch, type Response as UndiciResponse } from 'undici';

/** A non-2xx answer from the API server, with the `Status` reason when it sent one. */
export class KubeApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Default `application/json`; a patch names its type (`application/merge-patch+json`, ...). */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

export interface ApiClientOptions {
  /**
   * Longest wait for one answer (default 30 s, half the API server's own limit for a request;
   * for a watch, also the longest silence on its stream, as client-node's Watch has it): a hung
   * server or a half-open connection must not stall the agent's updates or its shutdown.
   */
  readonly timeoutMs?: number;
  /** Aborts every request of this client (the agent stopping). */
  readonly signal?: AbortSignal;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class ApiClient {
  readonly #kubeConfig: KubeConfig;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;

  constructor(kubeConfig: KubeConfig, options: ApiClientOptions = {}) {
    this.#kubeConfig = kubeConfig;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#signal = options.signal;
  }

  get kubeConfig(): KubeConfig {
    return this.#kubeConfig;
  }

  /** GET `path` and return the parsed JSON body; a non-2xx answer is a KubeApiError. */
  get(path: string, query: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<unknown> {
    return this.request('GET', path, signal ? { query, signal } : { query });
  }

  /**
   * One request with a JSON body (or a patch of `contentType`); resolves to the parsed answer.
   * Writes go through here too so the JSON sent is exactly what the API server expects (client-node
   * serialises MicroTime fields with milliseconds, which the real server rejects).
   */
  async request(method: HttpVerb, path: string, options: RequestOptions = {}): Promise<unknown> {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const context = new RequestContext(url.toString(), HttpMethod[method]);
    await this.#kubeConfig.applySecurityAuthentication(context);
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = AbortSignal.any([timeout, ...(options.signal ? [options.signal] : []), ...(this.#signal ? [this.#signal] : [])]);
    let response: Awaited<ReturnType<typeof fetch>>;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        dispatcher: context.getDispatcher(),
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal,
      });
      text = await response.text();
    } catch (error) {
      // No path in the message: every kind fails alike when the server hangs, and says it once.
      if (signal.reason instanceof Error && signal.reason.name === 'TimeoutError') {
        throw new Error(`no answer from the API server ${timeout.aborted ? `within ${this.#timeoutMs / 1000} s` : 'in time'}`);
      }
      throw withCause(error);
    }
    if (!response.ok) throw errorFromResponse(response.status, text);
    return text === '' ? null : (JSON.parse(text) as unknown);
  }

  /**
   * GET `path` and hand the answer over as it comes, any status (the caller reads the body and
   * checks `status`): for answers that are not JSON, or are a stream, such as an agent's
   * /metrics or /tap through the pod proxy. Only `signal` ends it.
   */
  async open(path: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UndiciResponse> {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    await this.#kubeConfig.applySecurityAuthentication(context);
    try {
      return await fetch(url, {
        method: 'GET',
        headers: { ...context.getHeaders(), ...headers },
        dispatcher: context.getDispatcher(),
        signal: AbortSignal.any([signal, ...(this.#signal ? [this.#signal] : [])]),
      });
    } catch (error) {
      throw withCause(error);
    }
  }

  /**
   * Streams watch events to `onEvent` until the server ends the stream (resolves) or the
   * connection fails (rejects). `onConnected` runs once the server accepted the watch. An abort
   * of `signal` ends it quietly, at once, even while the server has not answered yet.
   *
   * Our own rather than client-node's Watch, which cannot be aborted before the server answers
   * (a hung server held the agent's shutdown for its 30 s timer). A stream silent for the timeout
   * (no event, no bookmark: the real server may send one only every minute) is a normal end; a
   * watch not answered within it is a hung server.
   */
  async watch(path: string, query: Readonly<Record<string, string>>, onEvent: (event: WatchEvent) => void, onConnected: () => void, signal: AbortSignal): Promise<void> {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const stream = new AbortController();
    let silence: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        timedOut = true;
        stream.abort();
      }, this.#timeoutMs);
    };
    const onAbort = (): void => stream.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stream.abort();
    let connected = false;
    try {
      arm();
      const context = new RequestContext(url.toString(), HttpMethod.GET);
      await this.#kubeConfig.applySecurityAuthentication(context);
      const response = await fetch(url, {
        method: 'GET',
        headers: { ...context.getHeaders(), Accept: 'application/json' },
        dispatcher: context.getDispatcher(),
        signal: AbortSignal.any([stream.signal, ...(this.#signal ? [this.#signal] : [])]),
      });
      if (response.status !== 200) throw errorFromResponse(response.status, await response.text());
      connected = true;
      arm();
      onConnected();
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body ?? []) {
        arm();
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          const event = line === '' ? null : parseEvent(line);
          if (event) onEvent(event);
          if (stream.signal.aborted) return;
        }
      }
    } catch (error) {
      if (signal.aborted || this.#signal?.aborted) return;
      if (timedOut) {
        if (connected) return;
        throw new Error(`no answer from the API server within ${this.#timeoutMs / 1000} s`);
      }
      if (error instanceof KubeApiError) throw error;
      throw withCause(error);
    } finally {
      clearTimeout(silence);
      signal.removeEventListener('abort', onAbort);
    }
  }

}

function errorFromResponse(code: number, text: string): KubeApiError {
  try {
    const status = JSON.parse(text) as { reason?: unknown; message?: unknown };
    return new KubeApiError(code, typeof status.reason === 'string' ? status.reason : '', typeof status.message === 'string' ? status.message : text);
  } catch {
    return new KubeApiError(code, '', text.slice(0, 200) || `HTTP ${code}`);
  }
}

/** One line of a watch stream; a line that is not an event is skipped (as client-node does). */
function parseEvent(line: string): WatchEvent | null {
  try {
    const data = JSON.parse(line) as { type?: unknown; object?: unknown };
    if (typeof data.type !== 'string' || typeof data.object !== 'object' || data.object === null) return null;
    return { type: data.type as WatchEvent['type'], object: data.object as Record<string, unknown> };
  } catch {
    return null;
  }
}

/**
 * undici's transport errors say only "fetch failed" or "terminated"; their cause says why
 * ("connect ECONNREFUSED 10.0.0.1:6443", "other side closed"), which is what a user needs to see.
 */
function withCause(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  if (error.name === 'AbortError' || error.name === 'TimeoutError' || !(error.cause instanceof Error) || error.cause.message === '') return error;
  return new Error(`${error.message}: ${error.cause.message}`, { cause: error.cause });
}

/** GET `path`; null on 404. */
export async function getOrNull(client: ApiClient, path: string): Promise<unknown> {
  try {
    return await client.get(path);
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return null;
    throw error;
  }
}
