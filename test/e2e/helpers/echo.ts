/**
 * An echo backend in the manner of the Gateway API conformance echo server: it answers every
 * request with what it received (path, host, method, headers) and who it is, so a test can check
 * what the mesh changed on the way. And a client that keeps the response headers.
 */
import { createServer, request } from 'node:http';
import type { Socket } from 'node:net';

export interface Echoed {
  readonly pod: string;
  readonly namespace: string;
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface EchoBackend {
  close(): Promise<void>;
}

export function echoBackend(pod: string, namespace: string, address: string, port: number): Promise<EchoBackend> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const echoed: Echoed = { pod, namespace, path: req.url ?? '', host: req.headers.host ?? '', method: req.method ?? '', headers: req.headers };
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-served-by', pod);
      res.end(JSON.stringify(echoed));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve({
      close: () => new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
    }));
  });
}

export interface EchoCall {
  /** Where to connect (a VIP or a pod address) and the port. */
  readonly address: string;
  readonly port: number;
  /** The Host header (the name the client used). */
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The caller's pod address. */
  readonly from: string;
}

export interface EchoResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Null when the answer did not come from an echo backend (a mesh answer). */
  readonly echoed: Echoed | null;
  readonly body: string;
}

/** One request on a new connection from `from`; redirects are not followed. */
export function echoCall(call: EchoCall): Promise<EchoResult> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: call.address, port: call.port, path: call.path ?? '/', method: call.method ?? 'GET',
      headers: { ...call.headers, host: call.host }, agent: false, timeout: 10_000, localAddress: call.from,
    }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => {
        let echoed: Echoed | null = null;
        if (res.headers['content-type'] === 'application/json') echoed = JSON.parse(body) as Echoed;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, echoed, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    req.end();
  });
}
