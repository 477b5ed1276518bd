/**
 * What a stream listener hands its accepted sockets to (the TCP proxy, the HTTP/1.1 and h2c
 * proxies). The listener owns accepting; the handler owns the connections it was given.
 */
import type { Socket } from 'node:net';
import type { PortRuntime } from '../runtime/types.js';

export interface ConnectionHandler {
  handle(socket: Socket): void;
  /**
   * Draining starts (the agent is stopping, its endpoint is being removed): keep accepting, but
   * end every connection, new ones included, after its current exchange (HTTP/1.1: the response
   * says `Connection: close`; HTTP/2: GOAWAY), so keep-alive clients reconnect, elsewhere once
   * kube-proxy has moved, without a request lost on a connection closed under them.
   */
  closeAfterExchange(): void;
  /** Resolves once every connection handed over so far has finished (idle ones may be closed). */
  drain(): Promise<void>;
  /** Ends every connection now. */
  destroy(): void;
  readonly activeConnections: number;
}

/**
 * The live PortRuntime of a listener: captured once per connection or request, so a reload
 * changes what new traffic sees and never what is already in flight.
 */
export type CurrentPort = () => PortRuntime;
