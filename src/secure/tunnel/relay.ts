/**
 * The caller side's bridge from the data plane to the tunnel. The data plane's pools and TCP
 * proxy speak net.Socket; a tunnel stream is an HTTP/2 stream. So a secure-mode upstream
 * connection is a loopback socket to this relay, opened with one JSON line naming the source
 * identity, the destination agent's node and the pod endpoint; the relay opens the tunnel stream
 * of that identity and pipes the rest both ways.
 *
 * The relay listens on 127.0.0.1 only, and the first line must carry a random per-process token,
 * so another process on the machine cannot ask it to speak for an identity.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export interface RelayRequest {
  /** `ns/sa` the stream speaks for. */
  readonly identity: string;
  /** The node whose agent serves the pod. */
  readonly node: string;
  readonly host: string;
  readonly port: number;
  /** `namespace/name:port/PROTOCOL` of the Service port that routed it. */
  readonly service: string;
}

/** Opens the tunnel stream of a request (TunnelClient.openStream behind the peer lookup). */
export type RelayOpener = (request: RelayRequest) => Promise<Duplex>;

const MAX_PREAMBLE_BYTES = 4096;
const PREAMBLE_TIMEOUT_MS = 10_000;

export class OutboundRelay {
  readonly #token = randomBytes(24).toString('hex');
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #open: RelayOpener;
  readonly #logger: Logger;
  #port = 0;

  constructor(open: RelayOpener, logger: Logger) {
    this.#open = open;
    this.#logger = logger;
    // Half-close travels end to end: a FIN from the data plane ends the tunnel stream's writes only.
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#onConnection(socket));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** The loopback port it listens on (0 before `listen`). */
  get port(): number {
    return this.#port;
  }

  /** An upstream socket for the data plane; bytes written to it go through the tunnel. */
  connect(request: RelayRequest): Socket {
    const socket = connect({ host: '127.0.0.1', port: this.#port, allowHalfOpen: true });
    // Written before 'connect': it goes out first, ahead of anything the data plane writes.
    socket.write(`${JSON.stringify({ token: this.#token, ...request })}\n`);
    return socket;
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    return closed;
  }

  #onConnection(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(PREAMBLE_TIMEOUT_MS, () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (newline === -1) {
        if (buffered.length > MAX_PREAMBLE_BYTES) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const request = this.#parse(buffered.subarray(0, newline).toString('utf8'));
      if (request === null) {
        this.#logger.warn('tunnel relay: a local connection without a valid preamble was refused');
        socket.destroy();
        return;
      }
      this.#bridge(socket, request, buffered.subarray(newline + 1));
    };
    socket.on('data', onData);
  }

  #bridge(socket: Socket, request: RelayRequest, early: Buffer): void {
    this.#open(request).then((stream) => {
      if (socket.destroyed) {
        stream.destroy();
        return;
      }
      socket.setTimeout(0);
      if (early.length > 0) stream.write(early);
      // An end travels through the pipes (and lets pending bytes flush); only a reset cuts the other side.
      stream.on('error', () => socket.destroy());
      stream.once('close', () => {
        if (!stream.readableEnded) socket.destroy();
      });
      socket.once('close', () => {
        if (!socket.readableEnded) stream.destroy();
      });
      socket.pipe(stream);
      stream.pipe(socket);
      socket.resume();
    }, (err: Error) => {
      this.#logger.info({ source: request.identity, node: request.node, target: `${request.host}:${request.port}`, err: err.message },
        'tunnel: stream not opened');
      socket.destroy();
    });
  }

  #parse(line: string): RelayRequest | null {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return null;
    }
    if (typeof value !== 'object' || value === null) return null;
    const fields = value as Record<string, unknown>;
    const token = fields['token'];
    if (typeof token !== 'string' || token.length !== this.#token.length
      || !timingSafeEqual(Buffer.from(token), Buffer.from(this.#token))) return null;
    const { identity, node, host, port, service } = fields;
    if (typeof identity !== 'string' || typeof node !== 'string' || typeof host !== 'string'
      || typeof port !== 'number' || typeof service !== 'string') return null;
    return { identity, node, host, port, service };
  }
}
