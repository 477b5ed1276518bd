/**
 * `createH2cHandler`: `scheme: h2c` listeners (gRPC). Clients speak HTTP/2 with prior knowledge;
 * node:http2 serves each accepted socket and every stream is balanced on its own.
 */
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { ConnectionHandler, HttpProxyContext } from './context.js';
import type { HttpLimits } from './limits.js';
import { proxyStream } from './h2c/stream-proxy.js';

class H2cHandler implements ConnectionHandler {
  readonly #server: http2.Http2Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  /** Each session's own socket: node:http2 can drop a session and leave its socket open. */
  readonly #socketOf = new WeakMap<http2.ServerHttp2Session, net.Socket>();
  readonly #openStreams = new WeakMap<http2.Http2Session, number>();
  /** The socket being handed to the server (its session is created synchronously) and its preface deadline. */
  #accepting: { readonly socket: net.Socket; readonly preface: NodeJS.Timeout } | null = null;
  readonly #limits: HttpLimits;
  #draining = false;
  #drained: (() => void) | null = null;
  #drainPromise: Promise<void> | null = null;

  constructor(ctx: HttpProxyContext) {
    const limits = ctx.limits;
    this.#limits = limits;
    this.#server = http2.createServer({ maxSendHeaderBlockLength: limits.maxHeaderBytes, settings: { maxHeaderListSize: limits.maxHeaderBytes } });
    this.#server.setTimeout(limits.keepAliveTimeoutMs);
    this.#server.on('stream', (stream, headers) => {
      const session = stream.session;
      if (session) {
        this.#openStreams.set(session, (this.#openStreams.get(session) ?? 0) + 1);
        stream.once('close', () => this.#openStreams.set(session, (this.#openStreams.get(session) ?? 1) - 1));
      }
      proxyStream(stream, headers, ctx);
    });
    this.#server.on('session', (session) => {
      const accepting = this.#accepting;
      const socket = accepting?.socket ?? null;
      if (accepting !== null) {
        this.#socketOf.set(session, accepting.socket);
        session.once('remoteSettings', () => clearTimeout(accepting.preface));
      }
      this.#sessions.add(session);
      session.on('close', () => {
        this.#sessions.delete(session);
        socket?.destroy();
      });
      if (this.#draining) session.close();
    });
    this.#server.on('sessionError', () => { /* the session closes; its streams report themselves */ });
    // Idle for the keep-alive timeout: closed, unless streams wait for their endpoints (those are
    // bounded by the policy timeout, and their end re-arms the timer).
    this.#server.on('timeout', (session?: http2.ServerHttp2Session) => {
      if (!session || (this.#openStreams.get(session) ?? 0) > 0) return;
      session.close();
      this.#socketOf.get(session)?.destroy();
    });
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
    // The client's preface and SETTINGS are its "request head": a client that does not send
    // them in time is cut, as an HTTP/1.1 client that does not finish its head.
    const preface = setTimeout(() => socket.destroy(), this.#limits.headersTimeoutMs);
    socket.on('close', () => {
      clearTimeout(preface);
      this.#sockets.delete(socket);
      this.#checkDrained();
    });
    this.#accepting = { socket, preface };
    try {
      this.#server.emit('connection', socket);
    } finally {
      this.#accepting = null;
    }
  }

  closeAfterExchange(): void {
    // GOAWAY: the open streams finish, the client opens a new connection for the next ones.
    // Sessions accepted later are served until drain().
    for (const session of this.#sessions) session.close();
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
