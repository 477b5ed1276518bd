/**
 * The local-mode DNS responder: answers `<svc>.<ns>.<domain>` (and the own names of Services
 * with `plexus.dev/own-names`) with the Service's VIP over UDP and TCP on the same port. The answer table is replaced as a whole on every config change, so
 * a query sees either the old table or the new one, never a mix.
 *
 * Malformed input never harms the responder: a bad UDP datagram is dropped, a bad TCP message
 * closes that connection.
 */
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { isIPv6 } from 'node:net';
import { decode, encode } from 'dns-packet';
import type { Logger } from 'pino';
import { answerQuery, buildDnsTable, type DnsTable } from './answer.js';

export interface DnsResponderOptions {
  readonly address: string;
  /** 0 = any free port (the same one for UDP and TCP); read it back from `port`. */
  readonly port: number;
  readonly domain: string;
  /** A TCP connection with no complete query for this long is closed. */
  readonly tcpIdleTimeoutMs?: number;
  readonly logger?: Logger;
}

const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
const FREE_PORT_ATTEMPTS = 20;

export class DnsResponder {
  readonly #options: DnsResponderOptions;
  #tables: readonly DnsTable[];
  #udp: UdpSocket | null = null;
  #tcp: Server | null = null;
  readonly #connections = new Set<Socket>();
  #port = 0;

  constructor(options: DnsResponderOptions) {
    this.#options = options;
    this.#tables = [buildDnsTable(options.domain, [])];
  }

  /** The bound port (UDP and TCP), once started. */
  get port(): number {
    return this.#port;
  }

  /** Swap in new answer tables, one per zone (atomic: one reference assignment). */
  setTables(tables: readonly DnsTable[]): void {
    this.#tables = tables;
  }

  async start(): Promise<void> {
    const { address, port } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const udp = await this.#bindUdp(address, port);
      const udpPort = udp.address().port;
      try {
        this.#tcp = await this.#listenTcp(address, udpPort);
        this.#udp = udp;
        this.#port = udpPort;
        return;
      } catch (err) {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        // With port 0 the TCP side of the UDP port we got may be taken: try another one.
        const retry = port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < FREE_PORT_ATTEMPTS;
        if (!retry) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = null;
    this.#tcp = null;
    await Promise.all([
      udp ? new Promise<void>((resolve) => udp.close(() => resolve())) : undefined,
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
    ]);
  }

  /** The encoded response to one wire-format query, or null to stay silent. */
  #respond(message: Buffer): Buffer | null {
    try {
      const response = answerQuery(decode(message), this.#tables);
      return response ? encode(response) : null;
    } catch {
      return null;
    }
  }

  #bindUdp(address: string, port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.#options.logger?.warn({ err }, 'DNS UDP socket error'));
        socket.on('message', (message: Buffer, peer: RemoteInfo) => {
          const reply = this.#respond(message);
          if (reply) socket.send(reply, peer.port, peer.address);
        });
        resolve(socket);
      });
    });
  }

  #listenTcp(address: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.#serveConnection(socket));
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#options.logger?.warn({ err }, 'DNS TCP server error'));
        resolve(server);
      });
    });
  }

  /** RFC 1035 §4.2.2 framing: each message is preceded by its 2-byte length; several per connection. */
  #serveConnection(socket: Socket): void {
    this.#connections.add(socket);
    socket.setTimeout(this.#options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#connections.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const reply = this.#respond(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        if (!reply) {
          socket.destroy();
          return;
        }
        const frame = Buffer.alloc(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        reply.copy(frame, 2);
        socket.write(frame);
      }
    });
  }
}
