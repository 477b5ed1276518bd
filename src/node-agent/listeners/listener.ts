/**
 * Bound sockets: a stream listener (net.Server handing sockets to a ConnectionHandler) and a
 * datagram listener (a UDP relay). Both bind on `listen()` and, on `close()`, stop accepting at
 * once and let in-flight traffic finish within the drain timeout.
 */
import { createServer, type Server } from 'node:net';
import type { UdpRelay } from '../udp/udp-relay.js';
import type { ConnectionHandler } from './connection-handler.js';
import type { ListenerSpec } from './plan.js';

export interface RunningListener {
  readonly spec: ListenerSpec;
  /** Rejects with the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES...). */
  listen(): Promise<void>;
  /** Stops accepting now; resolves once in-flight traffic finished, or was cut after `drainTimeoutMs`. */
  close(drainTimeoutMs: number): Promise<void>;
  /** Keeps accepting, but each connection ends after its current exchange (see ConnectionHandler). */
  closeAfterExchange(): void;
  /** Connections (stream) or flows (datagram) currently open. */
  readonly active: number;
}

export class StreamListener implements RunningListener {
  readonly spec: ListenerSpec;
  readonly #handler: ConnectionHandler;
  readonly #server: Server;
  readonly #onError: (error: Error) => void;

  constructor(spec: ListenerSpec, handler: ConnectionHandler, maxConnections: number, onError: (error: Error) => void) {
    this.spec = spec;
    this.#handler = handler;
    // Half-open on: the TCP proxy forwards a FIN as a FIN; node:http handles half-open itself.
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => handler.handle(socket));
    this.#server.maxConnections = maxConnections;
    this.#onError = onError;
  }

  get active(): number {
    return this.#handler.activeConnections;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(error);
      this.#server.once('error', failed);
      this.#server.listen({ host: this.spec.address, port: this.spec.port, exclusive: true }, () => {
        this.#server.removeListener('error', failed);
        this.#server.on('error', this.#onError);
        resolve();
      });
    });
  }

  closeAfterExchange(): void {
    this.#handler.closeAfterExchange();
  }

  async close(drainTimeoutMs: number): Promise<void> {
    if (this.#server.listening) this.#server.close();
    await withDeadline(this.#handler.drain(), drainTimeoutMs);
    this.#handler.destroy();
  }
}

export class DatagramListener implements RunningListener {
  readonly spec: ListenerSpec;
  readonly #relay: UdpRelay;

  constructor(spec: ListenerSpec, relay: UdpRelay) {
    this.spec = spec;
    this.#relay = relay;
  }

  get active(): number {
    return this.#relay.activeFlows;
  }

  listen(): Promise<void> {
    return this.#relay.listen();
  }

  /** UDP has no connection to end: flows run until idle or closed. */
  closeAfterExchange(): void {
    // nothing to do
  }

  close(): Promise<void> {
    return this.#relay.close();
  }
}

/** Resolves when `work` settles or `ms` passed, whichever is first. */
function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work.catch(() => undefined), deadline]).finally(() => clearTimeout(timer));
}
