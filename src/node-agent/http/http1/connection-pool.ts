/**
 * Keep-alive HTTP/1.1 connections to endpoints, pooled per endpoint (`ip:port`). A connection is
 * lent to one exchange at a time (its `owner`) and comes back idle when the response is complete
 * and both sides allow reuse. Idle connections are reused most-recent first and closed after
 * `idleTimeoutMs` (shorter than the usual 5 s server keep-alive, so the endpoint rarely closes a
 * connection the proxy is about to reuse). Listeners are attached once per socket and dispatch
 * to the current owner, so a request allocates no closures for its upstream socket.
 */
import * as net from 'node:net';
import type { UpstreamSocket } from '../../runtime/dialer.js';

/** The exchange currently using a connection. */
export interface UpstreamOwner {
  onUpstreamData(chunk: Buffer): void;
  /** The endpoint closed its side. */
  onUpstreamEnd(): void;
  /** The socket is gone; `error` when it failed. */
  onUpstreamClose(error: Error | null): void;
  onUpstreamDrain(): void;
}

export type AcquireCallback = (error: Error | null, connection: UpstreamConnection | null) => void;

export interface Http1PoolOptions {
  readonly maxIdlePerEndpoint: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export const DEFAULT_HTTP1_POOL_OPTIONS: Http1PoolOptions = Object.freeze({
  maxIdlePerEndpoint: 256,
  idleTimeoutMs: 4_000,
  connectTimeoutMs: 5_000,
});

export class UpstreamConnection {
  owner: UpstreamOwner | null = null;
  /** It has carried an exchange before (a failure on it may be a stale keep-alive race). */
  reused = false;
  #error: Error | null = null;
  #connecting: AcquireCallback | null;
  #idle = false;

  constructor(readonly socket: UpstreamSocket, readonly key: string, readonly pool: Http1ConnectionPool, connecting: AcquireCallback) {
    this.#connecting = connecting;
    socket.setTimeout(pool.options.connectTimeoutMs);
    socket.on('connect', () => this.#onConnect());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error: Error) => { this.#error ??= error; });
    socket.on('close', () => this.#onClose());
    socket.on('drain', () => this.owner?.onUpstreamDrain());
    socket.on('timeout', () => this.#onTimeout());
  }

  get idle(): boolean {
    return this.#idle;
  }

  /** Marks it idle (called by the pool). */
  setIdle(idle: boolean): void {
    this.#idle = idle;
  }

  destroy(): void {
    this.owner = null;
    this.socket.destroy();
  }

  #onConnect(): void {
    const callback = this.#connecting;
    this.#connecting = null;
    // One inactivity timer for the socket's life, re-armed by every read and write: it only
    // closes the connection while idle in the pool (see #onTimeout), so a request never resets it.
    this.socket.setTimeout(this.pool.options.idleTimeoutMs);
    callback?.(null, this);
  }

  #onData(chunk: Buffer): void {
    if (this.owner !== null) this.owner.onUpstreamData(chunk);
    // Bytes nobody asked for: the connection's framing can no longer be trusted.
    else this.socket.destroy();
  }

  #onEnd(): void {
    if (this.owner !== null) this.owner.onUpstreamEnd();
    else this.socket.destroy();
  }

  #onTimeout(): void {
    if (this.#connecting !== null) this.#error ??= new Error(`connect timeout after ${this.pool.options.connectTimeoutMs} ms`);
    if (this.#connecting !== null || this.#idle) this.socket.destroy();
  }

  #onClose(): void {
    this.pool.forget(this);
    const callback = this.#connecting;
    if (callback !== null) {
      this.#connecting = null;
      callback(this.#error ?? new Error('connection closed while connecting'), null);
      return;
    }
    const owner = this.owner;
    this.owner = null;
    owner?.onUpstreamClose(this.#error);
  }
}

export class Http1ConnectionPool {
  readonly options: Http1PoolOptions;
  readonly #idle = new Map<string, UpstreamConnection[]>();
  readonly #all = new Set<UpstreamConnection>();
  #closed = false;

  constructor(options: Partial<Http1PoolOptions> = {}) {
    this.options = { ...DEFAULT_HTTP1_POOL_OPTIONS, ...options };
  }

  /** Idle connections kept for `key` (for tests and metrics). */
  idleCount(key: string): number {
    return this.#idle.get(key)?.length ?? 0;
  }

  /**
   * Lends a connection to `host:port` (`key` = its `ip:port`): an idle one at once, or a new one
   * once connected. The callback runs synchronously for an idle connection. `connect` replaces
   * the direct dial (secure mode's tunnel); `key` must then name the path, not just the endpoint.
   */
  acquire(key: string, host: string, port: number, callback: AcquireCallback, connect?: () => UpstreamSocket): void {
    if (this.#closed) {
      callback(new Error('upstream pool closed'), null);
      return;
    }
    const idle = this.#idle.get(key);
    let connection = idle?.pop();
    // Skip connections destroyed since they went idle (their 'close' has not run yet).
    while (connection !== undefined && connection.socket.destroyed) {
      connection.setIdle(false);
      connection = idle?.pop();
    }
    if (connection !== undefined) {
      connection.setIdle(false);
      connection.reused = true;
      callback(null, connection);
      return;
    }
    const socket = connect !== undefined ? connect() : net.connect({ host, port, noDelay: true });
    this.#all.add(new UpstreamConnection(socket, key, this, callback));
  }

  /** Takes a connection back after a complete exchange; it must be reusable. */
  release(connection: UpstreamConnection): void {
    connection.owner = null;
    let idle = this.#idle.get(connection.key);
    if (idle === undefined) {
      idle = [];
      this.#idle.set(connection.key, idle);
    }
    if (this.#closed || idle.length >= this.options.maxIdlePerEndpoint || connection.socket.destroyed) {
      connection.destroy();
      return;
    }
    connection.setIdle(true);
    idle.push(connection);
  }

  /** Called by a connection when its socket closed. */
  forget(connection: UpstreamConnection): void {
    this.#all.delete(connection);
    if (!connection.idle) return;
    connection.setIdle(false);
    const idle = this.#idle.get(connection.key);
    if (idle === undefined) return;
    const index = idle.indexOf(connection);
    if (index !== -1) idle.splice(index, 1);
    if (idle.length === 0) this.#idle.delete(connection.key);
  }

  close(): void {
    this.#closed = true;
    // Owners hear of it through onUpstreamClose, like any other failure.
    for (const connection of [...this.#all]) connection.socket.destroy();
    this.#idle.clear();
  }
}
