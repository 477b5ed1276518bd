/**
 * An echo backend in the manner of the Gateway API conformance echo server: it answers every
 * request with what it received (path, host, method, headers) and who it is, so a test can check
 * what the mesh changed on the way. And a client that keeps the response headers.
 */
import { createServer, request } from 'node:http';
import { type ServerHttp2Session, connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import { connect } from 'node:net';
import { listenClosable } from './closable.js';

export interface Echoed {
  readonly pod: string;
  readonly namespace: string;
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface EchoBackend {
  /** Every request it answered, oldest first (mirror copies included). */
  readonly received: readonly Echoed[];
  close(): Promise<void>;
}

export async function echoBackend(pod: string, namespace: string, address: string, port: number): Promise<EchoBackend> {
  const received: Echoed[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const echoed: Echoed = { pod, namespace, path: req.url ?? '', host: req.headers.host ?? '', method: req.method ?? '', headers: req.headers };
      received.push(echoed);
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-served-by', pod);
      res.end(JSON.stringify(echoed));
    });
  });
  return { received, close: await listenClosable(server, address, port) };
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

/**
 * A gRPC echo backend over h2c (as the conformance suite's echo `grpc` port): every call is
 * answered with one length-prefixed message holding the Echoed JSON (`path` is the called
 * `/service/method`), `grpc-status: 0` in the trailers.
 */
export function grpcEchoBackend(pod: string, namespace: string, address: string, port: number): Promise<EchoBackend> {
  const server = createHttp2Server();
  const sessions = new Set<ServerHttp2Session>();
  const received: Echoed[] = [];
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      const echoed: Echoed = {
        pod, namespace, path: String(headers[':path']), host: String(headers[':authority'] ?? ''), method: String(headers[':method']), headers,
      };
      received.push(echoed);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame(Buffer.from(JSON.stringify(echoed))));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve({
      received,
      close: () => new Promise<void>((done) => {
        for (const session of sessions) session.destroy();
        server.close(() => done());
      }),
    }));
  });
}

function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

export interface GrpcCall {
  readonly address: string;
  readonly port: number;
  /** `:authority`: the name the client used (`echo:7070`). */
  readonly authority: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly from: string;
}

export interface GrpcResult {
  /** `grpc-status` from the trailers, or from the headers of a trailers-only answer. */
  readonly grpcStatus: string;
  readonly echoed: Echoed | null;
}

/** One unary gRPC call over h2c on a new connection from `from`. */
export function grpcEchoCall(call: GrpcCall): Promise<GrpcResult> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(`http://${call.authority}`, { createConnection: () => connect({ host: call.address, port: call.port, localAddress: call.from }) });
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST', ':path': call.path, ':authority': call.authority, 'content-type': 'application/grpc', te: 'trailers', ...call.metadata,
    });
    let grpcStatus = '';
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => stream.close(), 10_000);
    stream.on('response', (headers) => { grpcStatus = String(headers['grpc-status'] ?? ''); });
    stream.on('trailers', (trailers) => { grpcStatus = String(trailers['grpc-status'] ?? grpcStatus); });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      clearTimeout(timer);
      session.close();
      const body = Buffer.concat(chunks);
      const echoed = grpcStatus === '0' && body.length > 5 ? JSON.parse(body.subarray(5).toString()) as Echoed : null;
      if (grpcStatus === '') reject(new Error(`gRPC call ${call.path} ended without a grpc-status`));
      else resolve({ grpcStatus, echoed });
    });
    stream.end(grpcFrame(Buffer.alloc(0)));
  });
}
