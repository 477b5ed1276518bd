import { expect } from 'chai';
import * as net from 'node:net';
import { type ProxyUnderTest, type UpstreamServer, meshConfig, rawExchange, request, startProxy, startUpstream, waitFor } from './harness.js';

describe('HTTP/1.1 proxy: authorization, rate limit, client limits', () => {
  let upstream: UpstreamServer;
  let proxy: ProxyUnderTest | null = null;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = null;
  });

  after(async () => {
    await upstream.close();
  });

  it('answers 403 to unknown and unauthorized sources under ACL, and lets granted ones through', async () => {
    proxy = await startProxy(meshConfig({
      endpoints: [{ port: upstream.port }],
      identities: [
        { ip: '127.0.0.2', namespace: 'shop', pod: 'client-1', serviceAccount: 'client' },
        { ip: '127.0.0.4', namespace: 'shop', pod: 'other-1', serviceAccount: 'other' },
      ],
      access: [{ trafficTarget: 'shop/client-to-web', sources: ['shop/client'], http: null }],
    }), { acl: true });
    const allowed = await request(proxy.port, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '127.0.0.9' } });
    expect(allowed.status).to.equal(200);

    // X-Forwarded-For is never trusted: naming a granted pod does not help.
    const unknown = await request(proxy.port, { localAddress: '127.0.0.3', headers: { 'x-forwarded-for': '127.0.0.2' } });
    expect(unknown.status).to.equal(403);
    expect(unknown.body.toString()).to.match(/^forbidden: unknown source 127\.0\.0\.3: not a pod of node [^;]+; with ACL on, only known pods may access shop\/web:80\n$/);

    const denied = await request(proxy.port, { localAddress: '127.0.0.4' });
    expect(denied.status).to.equal(403);
    expect(denied.body.toString()).to.include('shop/other').and.include('no TrafficTarget grants shop/other');

    expect(proxy.records.map((r) => [r.status, r.sourceIdentity])).to.deep.equal([
      [200, 'shop/client'], [403, null], [403, 'shop/other'],
    ]);
    expect(upstream.requests).to.be.greaterThan(0);
  });

  it('answers 429 under a burst beyond the rate limit', async () => {
    proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }], policy: { rateLimit: { average: 1, burst: 3 } } }));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await request(proxy.port)).status);
    expect(statuses.slice(0, 3)).to.deep.equal([200, 200, 200]);
    expect(statuses).to.include(429);
    const limited = proxy.records.find((r) => r.status === 429);
    expect(limited?.reason).to.equal('rate-limited');
    expect(proxy.records).to.have.length(10);
  });

  it('answers 431 to an oversized request head and closes', async () => {
    proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }), { limits: { maxHeaderBytes: 1024 } });
    const complete = await rawExchange(proxy.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
    expect(complete).to.match(/^HTTP\/1\.1 431 /);
    const endless = await rawExchange(proxy.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}`);
    expect(endless).to.match(/^HTTP\/1\.1 431 /);
    expect(proxy.records.map((r) => [r.status, r.reason])).to.deep.equal([[431, 'header-too-large'], [431, 'header-too-large']]);
  });

  it('answers 408 to a client whose head never finishes, then closes', async () => {
    proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }), { limits: { headersTimeoutMs: 300 } });
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const interval = setInterval(() => socket.write('X-Slow: 1\r\n'), 50);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    clearInterval(interval);
    expect(Buffer.concat(received).toString()).to.match(/^HTTP\/1\.1 408 /);
    await waitFor(() => proxy?.handler.activeConnections === 0);
    expect(proxy.records.map((r) => [r.status, r.reason])).to.deep.equal([[408, 'header-timeout']]);
  });

  it('closes idle keep-alive connections and resolves drain', async () => {
    proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }));
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    expect(proxy.handler.activeConnections).to.equal(1);
    await proxy.handler.drain();
    await closed;
    await waitFor(() => proxy?.handler.activeConnections === 0);
  });
});
