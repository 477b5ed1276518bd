/**
 * The mesh-wide default timeout (`--request-timeout`, HttpLimits.requestTimeoutMs): a Service
 * without `plexus.dev/timeout` gets 504 when its endpoint sends no response head in time; the
 * clock runs from the end of the request to the response head, so slow uploads and long
 * responses are not cut; the annotation replaces it. "Longer than the default" is shown by state,
 * not by clocks: a probe request on the same proxy got its own 504 meanwhile.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { type ProxyUnderTest, type UpstreamServer, meshConfig, request, startProxy, startUpstream, waitFor } from './harness.js';

const DEFAULT_MS = 150;

/** Holds `/hold` requests until released; `/stall` is never answered; anything else is 200 at once. */
interface Endpoint {
  readonly upstream: UpstreamServer;
  /** Requests (by path) whose body the endpoint read to the end. */
  readonly received: string[];
  release(): void;
  /** Only `/stream`: sends the rest of the body and ends it. */
  finishStream(): void;
}

async function endpoint(): Promise<Endpoint> {
  const held: Array<() => void> = [];
  const streams: http.ServerResponse[] = [];
  const received: string[] = [];
  const upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push(`${req.url ?? ''} ${Buffer.concat(chunks).toString()}`);
      if (req.url === '/stall') return;
      if (req.url === '/hold') held.push(() => res.end('released'));
      else if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        streams.push(res);
      } else res.end(`got ${Buffer.concat(chunks).toString()}`);
    });
  });
  return {
    upstream,
    received,
    release: () => { for (const answer of held.splice(0)) answer(); },
    finishStream: () => { for (const res of streams.splice(0)) res.end('last'); },
  };
}

describe('HTTP proxy: the mesh-wide default timeout (no plexus.dev/timeout)', () => {
  let backend: Endpoint;
  let proxy: ProxyUnderTest;
  const others: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    backend = await endpoint();
    proxy = await startProxy(meshConfig({ endpoints: [{ port: backend.upstream.port }] }), { limits: { requestTimeoutMs: DEFAULT_MS } });
  });

  afterEach(async () => {
    for (const close of others.splice(0).reverse()) await close();
    await proxy.close();
    await backend.upstream.close();
  });

  /** A request to a stalled path that ends in the default's 504: proof that the default has passed. */
  async function probe(port = proxy.port): Promise<void> {
    const reply = await request(port, { path: '/stall' });
    expect(reply.status).to.equal(504);
  }

  it('answers 504 for a stalled endpoint without an annotation, naming the timeout', async () => {
    const reply = await request(proxy.port, { path: '/stall' });
    expect(reply.status).to.equal(504);
    expect(reply.body.toString()).to.equal(`upstream timeout: shop/web did not answer within ${DEFAULT_MS} ms; the request was aborted upstream\n`);
    expect(proxy.records[0]).to.include({ status: 504, reason: 'timeout' });
  });

  it('does not cut a response whose head arrived, however long its body takes', async () => {
    const pending = request(proxy.port, { path: '/stream' });
    await waitFor(() => backend.received.includes('/stream '));
    await probe();
    backend.finishStream();
    const reply = await pending;
    expect(reply.status).to.equal(200);
    expect(reply.body.toString()).to.equal('first;last');
  });

  it('starts the clock at the end of the request: a slow upload is not cut', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    others.push(async () => { socket.destroy(); });
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.endsWith('got hello world')) resolve(text);
      });
    });
    socket.write('POST /upload HTTP/1.1\r\nhost: web\r\ncontent-length: 11\r\n\r\nhello');
    await probe();
    await probe();
    socket.write(' world');
    expect(await answer).to.match(/^HTTP\/1\.1 200 /);
  });

  it('gives way to plexus.dev/timeout, shorter or longer', async () => {
    const annotated = await startProxy(meshConfig({ endpoints: [{ port: backend.upstream.port }], policy: { timeoutMs: 60_000 } }), { limits: { requestTimeoutMs: DEFAULT_MS } });
    others.push(() => annotated.close());
    const held = request(annotated.port, { path: '/hold' });
    await waitFor(() => backend.received.includes('/hold '));
    await probe();
    backend.release();
    expect((await held).status).to.equal(200);

    const shorter = await startProxy(meshConfig({ endpoints: [{ port: backend.upstream.port }], policy: { timeoutMs: 50 } }), { limits: { requestTimeoutMs: 60_000 } });
    others.push(() => shorter.close());
    const reply = await request(shorter.port, { path: '/stall' });
    expect(reply.status).to.equal(504);
    expect(reply.body.toString()).to.include('did not answer within 50 ms');
  });

  it('is off with 0', async () => {
    const unbounded = await startProxy(meshConfig({ endpoints: [{ port: backend.upstream.port }] }), { limits: { requestTimeoutMs: 0 } });
    others.push(() => unbounded.close());
    const held = request(unbounded.port, { path: '/hold' });
    await waitFor(() => backend.received.includes('/hold '));
    await probe();
    backend.release();
    expect((await held).status).to.equal(200);
  });

  it('applies to h2c streams too', async () => {
    const stalled = http2.createServer();
    stalled.on('stream', () => { /* never answers */ });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    others.push(() => new Promise((resolve) => stalled.close(() => resolve())));
    const h2 = await startProxy(meshConfig({ scheme: 'h2c', endpoints: [{ port: (stalled.address() as AddressInfo).port }] }), { limits: { requestTimeoutMs: DEFAULT_MS } });
    others.push(() => h2.close());
    const session = http2.connect(`http://127.0.0.1:${h2.port}`);
    others.push(async () => { session.destroy(); });
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/demo.Greeter/Hello', 'content-type': 'application/grpc' });
      stream.on('response', (headers) => resolve(Number(headers[':status'])));
      stream.on('error', reject);
      stream.end(Buffer.alloc(5));
    });
    expect(status).to.equal(504);
    await waitFor(() => h2.records.length === 1);
    expect(h2.records[0]).to.include({ status: 504, reason: 'timeout' });
  });
});
