/**
 * A raw TCP endpoint for the hostile-input tests: it records every byte the proxy sends it, per
 * connection, answers each request head it finds with a scripted answer, and can replay what it
 * received through Node's own HTTP parser (llhttp), to learn what a real server makes of it.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { closeServer, listen } from './harness.js';

export interface SeenRequest {
  readonly method: string;
  readonly target: string;
  /** The whole head, latin1, CRLF CRLF included. */
  readonly head: string;
  /** Index of the connection it came on. */
  readonly connection: number;
}

/** The bytes to answer a request with; null = answer nothing (and keep the connection open). */
export type Responder = (request: SeenRequest) => string | Buffer | null;

export const OK_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** Answers 101 to any request with an Upgrade field (a server that would switch to anything). */
export const SWITCHING_RESPONDER: Responder = (request) => {
  const upgrade = /\r\nupgrade:[ \t]*([^\r]*)/i.exec(request.head);
  if (upgrade === null) return OK_RESPONSE;
  return `HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: ${upgrade[1]}\r\n\r\n`;
};

export interface ServerView {
  /** The requests llhttp found, in order, over all connections. */
  readonly requests: ReadonlyArray<{ readonly method: string; readonly url: string; readonly headers: http.IncomingHttpHeaders }>;
  /** llhttp parse errors (a connection whose bytes a real server would refuse). */
  readonly errors: readonly string[];
}

export class RawBackend {
  readonly connections: Buffer[] = [];
  readonly requests: SeenRequest[] = [];
  readonly #server: net.Server;
  readonly #sockets: net.Socket[] = [];
  readonly #respond: Responder;
  #port = 0;

  private constructor(respond: Responder) {
    this.#respond = respond;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  static async start(respond: Responder = () => OK_RESPONSE): Promise<RawBackend> {
    const backend = new RawBackend(respond);
    backend.#port = await listen(backend.#server);
    return backend;
  }

  get port(): number {
    return this.#port;
  }

  /** Everything received, all connections, latin1. */
  text(): string {
    return this.connections.map((bytes) => bytes.toString('latin1')).join('');
  }

  /** What Node's HTTP server (llhttp, strict defaults) reads in the bytes of each connection. */
  async serverView(): Promise<ServerView> {
    const requests: ServerView['requests'][number][] = [];
    const errors: string[] = [];
    for (const bytes of this.connections) await readWithLlhttp(bytes, requests, errors);
    return { requests, errors };
  }

  /** Sends more bytes on connection `index` (a response that goes on after its head). */
  write(index: number, bytes: string): void {
    this.#sockets[index]?.write(bytes, 'latin1');
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return closeServer(this.#server);
  }

  #accept(socket: net.Socket): void {
    const index = this.connections.length;
    this.connections.push(Buffer.alloc(0));
    this.#sockets.push(socket);
    let pending = Buffer.alloc(0);
    let tunnel = false;
    socket.on('error', () => { /* the proxy may cut it */ });
    socket.on('data', (chunk: Buffer) => {
      this.connections[index] = Buffer.concat([this.connections[index] as Buffer, chunk]);
      if (tunnel) return;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.toString('latin1', 0, end + 4);
        const bodyEnd = end + 4 + bodyLength(head, pending.subarray(end + 4));
        if (bodyEnd < end + 4) return;
        pending = pending.subarray(bodyEnd);
        const [method = '', target = ''] = head.split(' ', 2);
        const request = { method, target, head, connection: index };
        this.requests.push(request);
        const answer = this.#respond(request);
        if (answer !== null) socket.write(answer);
        if (answer !== null && String(answer).startsWith('HTTP/1.1 101')) tunnel = true;
      }
    });
  }
}

/** The body length a simple reader gives the head (-1: not all of the body is here yet). */
function bodyLength(head: string, rest: Buffer): number {
  if (/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) {
    const end = rest.indexOf('\r\n0\r\n\r\n');
    if (rest.subarray(0, 5).toString('latin1') === '0\r\n\r\n') return 5;
    return end === -1 ? -1 : end + 7;
  }
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const bytes = length === null ? 0 : Number(length[1]);
  return rest.length >= bytes ? bytes : -1;
}

async function readWithLlhttp(bytes: Buffer, requests: ServerView['requests'][number][], errors: string[]): Promise<void> {
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.end();
  });
  server.on('clientError', (error: Error, socket: Duplex) => {
    errors.push(error.message);
    socket.destroy();
  });
  const stream = new Duplex({ read() { /* pushed below */ }, write(_chunk, _encoding, callback) { callback(); } });
  const closed = once(stream, 'close');
  server.emit('connection', stream);
  stream.push(bytes);
  stream.push(null);
  // Bounded: the server ends the stream once it has read all of it.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  stream.destroy();
}
