import { expect } from 'chai';
import * as http from 'node:http';
import {
  type ProxyUnderTest, type UpstreamServer, meshConfig, refusedPort, request, startProxy, startUpstream, waitFor,
} from './harness.js';

describe('HTTP/1.1 proxy: retries, budget, timeout, no endpoint', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function upstream(handler: http.RequestListener): Promise<UpstreamServer> {
    const server = await startUpstream(handler);
    cleanups.push(() => server.close());
    return server;
  }

  async function proxyFor(config: Parameters<typeof startProxy>[0]): Promise<ProxyUnderTest> {
    const proxy = await startProxy(config);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  it('retries a refused connection on the healthy endpoint, for any method', async () => {
    const healthy = await upstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('healthy'));
    });
    const proxy = await proxyFor(meshConfig({
      endpoints: [{ port: await refusedPort() }, { port: healthy.port }],
      policy: { retryAttempts: 1 },
    }));
    for (let i = 0; i < 6; i++) {
      const reply = await request(proxy.port, i % 2 === 0 ? { method: 'GET' } : { method: 'POST', body: 'payload' });
      expect(reply.status).to.equal(200);
      expect(reply.body.toString()).to.equal('healthy');
    }
    expect(proxy.records).to.have.length(6);
    expect(proxy.records.every((r) => r.endpoint === `127.0.0.1:${healthy.port}`)).to.equal(true);
    expect(proxy.records.some((r) => r.retries === 1)).to.equal(true);
  });

  it('retries a 503 for idempotent methods but not for POST', async () => {
    const sick = await upstream((req, res) => {
      req.resume();
      res.writeHead(503).end('sick');
    });
    const healthy = await upstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('healthy'));
    });
    const proxy = await proxyFor(meshConfig({
      endpoints: [{ port: sick.port }, { port: healthy.port }],
      policy: { retryAttempts: 1 },
    }));
    for (let i = 0; i < 4; i++) expect((await request(proxy.port, { method: 'GET' })).status).to.equal(200);
    const retried = proxy.records.filter((r) => r.retries === 1);
    expect(retried.length).to.be.greaterThan(0);
    expect(retried.every((r) => r.endpoint === `127.0.0.1:${healthy.port}`)).to.equal(true);

    const postStatuses: number[] = [];
    for (let i = 0; i < 4; i++) postStatuses.push((await request(proxy.port, { method: 'POST', body: 'x' })).status);
    expect(postStatuses).to.include(503);
    expect(proxy.records.slice(4).every((r) => r.retries === 0)).to.equal(true);
  });

  it('retries an endpoint that drops the connection after taking the request only for idempotent methods', async () => {
    const dropper = await upstream((req) => req.socket.destroy());
    const healthy = await upstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('healthy'));
    });
    const proxy = await proxyFor(meshConfig({
      endpoints: [{ port: dropper.port }, { port: healthy.port }],
      policy: { retryAttempts: 1 },
    }));
    for (let i = 0; i < 4; i++) expect((await request(proxy.port, { method: 'PUT', body: 'x' })).status).to.equal(200);
    const dropsBefore = dropper.requests;
    const postStatuses: number[] = [];
    for (let i = 0; i < 4; i++) postStatuses.push((await request(proxy.port, { method: 'POST', body: 'order' })).status);
    // The dropper may have acted on each POST it took: it is sent there once and answered 502.
    const posted = dropper.requests - dropsBefore;
    expect(posted).to.be.greaterThan(0);
    expect(postStatuses.filter((status) => status === 502)).to.have.length(posted);
    expect(proxy.records.slice(4).every((r) => r.retries === 0)).to.equal(true);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const proxy = await proxyFor(meshConfig({
      endpoints: [{ port: await refusedPort() }, { port: await refusedPort() }],
      policy: { retryAttempts: 3 },
    }));
    const requests = 80;
    for (let i = 0; i < requests; i++) {
      const reply = await request(proxy.port);
      expect(reply.status).to.equal(502);
      expect(reply.body.toString()).to.match(/^bad gateway: service shop\/web: .*ECONNREFUSED/);
    }
    const retries = proxy.records.reduce((sum, r) => sum + r.retries, 0);
    // Without a budget every request would retry 3 times; the budget lets retries add at most
    // about as many attempts as the requests themselves (plus a small allowance).
    expect(retries).to.be.lessThan(requests * 3);
    // Budget: the window's first attempts (ratio 1) plus 10 retries/s over the 10 s window.
    expect(retries).to.be.at.most(requests + 100);
    expect(proxy.records.at(-1)?.retries).to.be.lessThan(3);
  });

  it('answers 504 when the endpoint does not answer in time, and aborts the upstream request', async () => {
    let aborted = 0;
    const slow = await upstream((req) => {
      req.socket.on('close', () => { aborted++; });
    });
    const proxy = await proxyFor(meshConfig({ endpoints: [{ port: slow.port }], policy: { timeoutMs: 200 } }));
    const reply = await request(proxy.port, { path: '/slow' });
    expect(reply.status).to.equal(504);
    expect(reply.body.toString()).to.include('shop/web did not answer within 200 ms; the request was aborted upstream');
    await waitFor(() => aborted === 1);
    expect(proxy.records[0]).to.include({ status: 504, reason: 'timeout' });
  });

  it('answers 503 naming the service when no endpoint is ready', async () => {
    const proxy = await proxyFor(meshConfig({ endpoints: [{ port: 1, ready: false }] }));
    const reply = await request(proxy.port);
    expect(reply.status).to.equal(503);
    expect(reply.body.toString()).to.equal('no ready endpoints for service shop/web\n');
    expect(proxy.records[0]).to.include({ status: 503 });
  });
});
