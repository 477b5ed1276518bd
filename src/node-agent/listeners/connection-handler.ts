/**
 * What a stream listener hands its accepted sockets to (the TCP proxy, the HTTP/1.1 and h2c
 * proxies). The listener owns accepting; the handler owns the connections it was given.
 */
import type { Socket } from 'node:net';
import type { PortRuntime } from '../runtime/types.js';

export interface ConnectionHandler {
  handle(socket: Socket): void;
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
