import { expect } from 'chai';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type ProxyUnderTest, meshConfig, refusedPort, startProxy } from './harness.js';

interface UnaryReply {
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A gRPC-like unary call: a length-prefixed message, answered with data and trailers. */
function unaryCall(session: http2.ClientHttp2Session, path: string, message: string): Promise<UnaryReply> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(message);
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (received) => { headers = received; });
    stream.on('trailers', (received) => { trailers = received; });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.end(frame);
  });
}

async function grpcServer(name: string): Promise<{ server: http2.Http2Server; port: number; calls: number }> {
  const server = http2.createServer();
  const state = { server, port: 0, calls: 0 };
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      state.calls++;
      const message = Buffer.concat(chunks).subarray(5).toString();
      const reply = Buffer.from(`${name}:${message}:${String(headers['x-forwarded-for'])}`);
      const frame = Buffer.alloc(5 + reply.length);
      frame.writeUInt32BE(reply.length, 1);
      reply.copy(frame, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-served-by': name }));
      stream.end(frame);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

describe('h2c proxy (gRPC)', () => {
  let servers: Array<{ server: http2.Http2Server; port: number; calls: number }>;
  let proxy: ProxyUnderTest;
  let client: http2.ClientHttp2Session;

  before(async () => {
    servers = [await grpcServer('a'), await grpcServer('b')];
    proxy = await startProxy(meshConfig({ scheme: 'h2c', endpoints: servers.map((s) => ({ port: s.port })) }));
    client = http2.connect(`http://127.0.0.1:${proxy.port}`);
    client.on('error', () => undefined);
  });

  after(async () => {
    client.destroy();
    await proxy.close();
    for (const { server } of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('balances unary calls of one client connection over both endpoints, trailers included', async () => {
    const replies: UnaryReply[] = [];
    for (let i = 0; i < 10; i++) replies.push(await unaryCall(client, '/demo.Greeter/Hello', `m${i}`));
    expect(servers.map((s) => s.calls)).to.deep.equal([5, 5]);
    for (const [i, reply] of replies.entries()) {
      expect(reply.headers[':status']).to.equal(200);
      expect(reply.trailers['grpc-status']).to.equal('0');
      expect(reply.body.subarray(5).toString()).to.match(new RegExp(`^[ab]:m${i}:127\\.0\\.0\\.1$`));
      expect(reply.trailers['x-served-by']).to.equal(reply.body.subarray(5, 6).toString());
    }
    expect(proxy.records).to.have.length(10);
    expect(proxy.records[0]).to.include({ protocol: 'h2c', status: 200, method: 'POST', path: '/demo.Greeter/Hello', backend: 'shop/web' });
  });

  it('drains: sends GOAWAY, lets the client connection close, then resolves', async () => {
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()));
    const drained = proxy.handler.drain();
    await goaway;
    client.close();
    await drained;
    expect(proxy.handler.activeConnections).to.equal(0);
  });
});

describe('h2c proxy answers', () => {
  it('answers 503 with a gRPC status when no endpoint is ready', async () => {
    const proxy = await startProxy(meshConfig({ scheme: 'h2c', endpoints: [{ port: 1, ready: false }] }));
    const client = http2.connect(`http://127.0.0.1:${proxy.port}`);
    client.on('error', () => undefined);
    try {
      const reply = await unaryCall(client, '/demo.Greeter/Hello', 'x');
      expect(reply.headers[':status']).to.equal(503);
      expect(reply.headers['grpc-status']).to.equal('14');
      expect(reply.body.toString()).to.equal('no ready endpoints for service shop/web\n');
      expect(proxy.records).to.have.length(1);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});

describe('h2c proxy resilience', () => {
  it('retries a refused endpoint on the healthy one, and answers 504 on timeout', async () => {
    const healthy = await grpcServer('ok');
    const stalled = http2.createServer();
    stalled.on('stream', () => { /* never answers */ });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const retrying = await startProxy(meshConfig({
      scheme: 'h2c', endpoints: [{ port: await refusedPort() }, { port: healthy.port }], policy: { retryAttempts: 1 },
    }));
    const timing = await startProxy(meshConfig({
      scheme: 'h2c', endpoints: [{ port: (stalled.address() as AddressInfo).port }], policy: { timeoutMs: 200 },
    }));
    const clients = [retrying, timing].map((proxy) => {
      const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
      session.on('error', () => undefined);
      return session;
    });
    try {
      for (let i = 0; i < 4; i++) {
        const reply = await unaryCall(clients[0] as http2.ClientHttp2Session, '/demo.Greeter/Hello', `r${i}`);
        expect(reply.headers[':status']).to.equal(200);
        expect(reply.trailers['grpc-status']).to.equal('0');
      }
      expect(healthy.calls).to.equal(4);
      expect(retrying.records.some((r) => r.retries === 1)).to.equal(true);

      const timedOut = await unaryCall(clients[1] as http2.ClientHttp2Session, '/demo.Greeter/Hello', 'slow');
      expect(timedOut.headers[':status']).to.equal(504);
      expect(timedOut.headers['grpc-status']).to.equal('4');
      expect(timing.records[0]).to.include({ status: 504, reason: 'timeout' });
    } finally {
      for (const client of clients) client.destroy();
      await retrying.close();
      await timing.close();
      await new Promise<void>((resolve) => healthy.server.close(() => resolve()));
      stalled.close();
    }
  });
});
