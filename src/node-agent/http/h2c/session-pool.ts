/**
 * One HTTP/2 cleartext session per endpoint (`ip:port`), shared by every stream to it: h2c
 * traffic is balanced per stream, and streams multiplex over the endpoint's session. A session
 * that fails, is told to go away or sits idle is dropped and the next stream opens a new one.
 */
import * as http2 from 'node:http2';
import type { UpstreamSocket } from '../../runtime/dialer.js';

export interface H2SessionPoolOptions {
  readonly idleTimeoutMs: number;
}

export const DEFAULT_H2_SESSION_POOL_OPTIONS: H2SessionPoolOptions = Object.freeze({ idleTimeoutMs: 60_000 });

export class H2SessionPool {
  readonly options: H2SessionPoolOptions;
  readonly #sessions = new Map<string, http2.ClientHttp2Session>();
  #closed = false;

  constructor(options: Partial<H2SessionPoolOptions> = {}) {
    this.options = { ...DEFAULT_H2_SESSION_POOL_OPTIONS, ...options };
  }

  /** The live session to `host:port`, connecting it when there is none (through `connect` when given). */
  session(key: string, host: string, port: number, connect?: () => UpstreamSocket): http2.ClientHttp2Session {
    if (this.#closed) throw new Error('upstream pool closed');
    const existing = this.#sessions.get(key);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const session = connect !== undefined
      ? http2.connect(`http://${authority}`, { createConnection: connect })
      : http2.connect(`http://${authority}`);
    this.#sessions.set(key, session);
    const forget = (): void => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    // Stream-level errors are reported on each stream; the session error only retires it.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.setTimeout(this.options.idleTimeoutMs, () => {
      forget();
      session.close();
    });
    return session;
  }

  close(): void {
    this.#closed = true;
    for (const session of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
  }
}
