/** `createHttp1Handler`: the HTTP/1.1 (and WebSocket upgrade) side of an HTTP listener. */
import type * as net from 'node:net';
import type { ConnectionHandler, HttpProxyContext } from './context.js';
import { ClientConnection, type ConnectionOwner } from './http1/client-connection.js';
import { type HeadRules, requestHeadRules } from './http1/head-bytes.js';

class Http1Handler implements ConnectionHandler, ConnectionOwner {
  readonly #ctx: HttpProxyContext;
  readonly requestHeads: HeadRules;
  readonly #connections = new Set<ClientConnection>();
  #draining = false;
  /** Every exchange ends its connection (draining has started; accepting goes on). */
  #closing = false;
  #drained: (() => void) | null = null;
  #drainPromise: Promise<void> | null = null;

  constructor(ctx: HttpProxyContext) {
    this.#ctx = ctx;
    this.requestHeads = requestHeadRules(ctx.limits.maxHeaderBytes);
  }

  get draining(): boolean {
    return this.#draining || this.#closing;
  }

  get activeConnections(): number {
    return this.#connections.size;
  }

  handle(socket: net.Socket): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    this.#connections.add(new ClientConnection(socket, this.#ctx, this));
  }

  closeAfterExchange(): void {
    this.#closing = true;
  }

  drain(): Promise<void> {
    this.#draining = true;
    this.#drainPromise ??= new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    for (const connection of [...this.#connections]) connection.closeIfIdle();
    this.#checkDrained();
    return this.#drainPromise;
  }

  destroy(): void {
    this.#draining = true;
    for (const connection of [...this.#connections]) connection.socket.destroy();
  }

  connectionIdle(connection: ClientConnection): void {
    if (this.#draining) connection.closeIfIdle();
  }

  connectionUpgraded(): void {
    this.#checkDrained();
  }

  connectionClosed(connection: ClientConnection): void {
    this.#connections.delete(connection);
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (!this.#draining || this.#drained === null) return;
    // A closing connection counts until its socket closes, so in-flight responses finish first;
    // tunnels are not HTTP exchanges and are not waited for.
    for (const connection of this.#connections) if (!connection.tunneling) return;
    this.#drained();
    this.#drained = null;
  }
}

export function createHttp1Handler(ctx: HttpProxyContext): ConnectionHandler {
  return new Http1Handler(ctx);
}
