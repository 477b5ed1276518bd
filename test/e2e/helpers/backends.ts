/** Real backend servers for end-to-end tests, bound to loopback "pod" addresses. */
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { listenClosable } from './closable.js';

/** What an HTTP backend saw: the test checks the mesh forwarded the request unchanged. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface Backend {
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** HTTP server answering `name` (body and `x-served-by`) and recording each request. */
export async function httpBackend(name: string, address: string, port: number): Promise<Backend> {
  const seen: SeenRequest[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.setHeader('x-served-by', name);
      res.end(name);
    });
  });
  return { seen, close: await listenClosable(server, address, port) };
}

export async function tcpEchoBackend(address: string, port: number): Promise<Backend> {
  const server = createTcpServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  return { seen: [], close: await listenClosable(server, address, port) };
}

export function udpEchoBackend(address: string, port: number): Promise<Backend> {
  const socket = createSocket('udp4');
  socket.on('message', (message, peer) => socket.send(message, peer.port, peer.address));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve({
      seen: [],
      close: () => new Promise<void>((done) => socket.close(() => done())),
    }));
  });
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly servedBy: string | null;
}

export interface HttpCall {
  readonly host: string;
  readonly port: number;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The caller's address: which pod it is. */
  readonly from?: string;
}

/** One HTTP request (a new connection each time, so the source address always applies). */
export function httpCall(call: HttpCall): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: call.host,
      port: call.port,
      path: call.path ?? '/',
      method: call.method ?? 'GET',
      headers: call.headers ?? {},
      agent: false,
      timeout: 10_000,
      ...(call.from ? { localAddress: call.from } : {}),
    }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => {
        const servedBy = res.headers['x-served-by'];
        resolve({ status: res.statusCode ?? 0, body, servedBy: typeof servedBy === 'string' ? servedBy : null });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    req.end(call.body);
  });
}

/** Counts `x-served-by` over `count` sequential requests. */
export async function countBackends(call: HttpCall, count: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const result = await httpCall(call);
    const key = result.servedBy ?? `status ${result.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
