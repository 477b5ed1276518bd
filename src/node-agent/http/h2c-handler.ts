/**
 * `createH2cHandler`: `scheme: h2c` listeners (gRPC). Clients speak HTTP/2 with prior knowledge;
 * node:http2 serves each accepted socket and every stream is balanced on its own.
 */
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { ConnectionHandler, HttpProxyContext } from './context.js';
import { proxyStream } from './h2c/stream-proxy.js';

class H2cHandler implements ConnectionHandler {
  readonly #server: http2.Http2Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  #draining = false;
  #drained: (() => void) | null = null;
  #drainPromise: Promise<void> | null = null;

  constructor(ctx: HttpProxyContext) {
    const limits = ctx.limits;
    this.#server = http2.createServer({ maxSendHeaderBlockLength: limits.maxHeaderBytes, settings: { maxHeaderListSize: limits.maxHeaderBytes } });
    this.#server.setTimeout(limits.keepAliveTimeoutMs);
    this.#server.on('stream', (stream, headers) => proxyStream(stream, headers, ctx));
    this.#server.on('session', (session) => {
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
      if (this.#draining) session.close();
    });
    this.#server.on('sessionError', () => { /* the session closes; its streams report themselves */ });
    this.#server.on('timeout', (session?: http2.ServerHttp2Session) => session?.close());
  }

  get activeConnections(): number {
    return this.#sockets.size;
  }

  handle(socket: net.Socket): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#checkDrained();
    });
    this.#server.emit('connection', socket);
  }

  drain(): Promise<void> {
    this.#draining = true;
    this.#drainPromise ??= new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    // GOAWAY: no new streams; the session closes once its open streams are done.
    for (const session of this.#sessions) session.close();
    this.#checkDrained();
    return this.#drainPromise;
  }

  destroy(): void {
    this.#draining = true;
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
  }

  #checkDrained(): void {
    if (!this.#draining || this.#drained === null || this.#sockets.size > 0) return;
    this.#drained();
    this.#drained = null;
  }
}

export function createH2cHandler(ctx: HttpProxyContext): ConnectionHandler {
  return new H2cHandler(ctx);
}
