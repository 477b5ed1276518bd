/**
 * Gateway API RequestMirror on the data plane (HTTP/1.1 and h2c): copies reach one endpoint of
 * the mirror Service with the rule's header edits and the whole body, the primary exchange never
 * waits for them, a share copies exactly that share, and copies are bounded (in flight, in time,
 * in body size) with every drop counted. Also `timeouts.backendRequest` on h2c.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { HeaderEdits, HttpFilters, HttpRule, MeshConfig, RuleTimeouts } from '../../../src/routing/mesh-config.js';
import {
  type ProxyOptions, type ProxyUnderTest, endpoint, meshConfig, request, startProxy, startUpstream, waitFor,
} from './harness.js';

interface Captured {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface RuleOptions {
  readonly mirrors: ReadonlyArray<{ readonly port: number; readonly numerator?: number; readonly denominator?: number }>;
  readonly requestHeaders?: HeaderEdits;
  readonly backendHeaders?: HeaderEdits;
  readonly timeouts?: RuleTimeouts;
}

const NO_EDITS: HeaderEdits = { set: [], add: [], remove: [] };

/** `shop/web` with one Gateway API rule (every request) to the primary endpoints, mirrored to `shop/shadow`. */
function mirrorConfig(scheme: 'http' | 'h2c', primaries: readonly number[], options: RuleOptions): MeshConfig {
  const base = meshConfig({ scheme, endpoints: primaries.map((port) => ({ port })) });
  const service = base.services[0] as MeshConfig['services'][number];
  const port = service.ports[0] as (typeof service.ports)[number];
  const filters: HttpFilters = {
    requestHeaders: options.requestHeaders ?? null,
    responseHeaders: null,
    redirect: null,
    rewrite: null,
    mirrors: options.mirrors.map((m) => ({
      service: 'shop/shadow', endpoints: [endpoint(m.port)], numerator: m.numerator ?? 1, denominator: m.denominator ?? 1,
    })),
  };
  const rule: HttpRule = {
    matches: [{ name: 'all', pathRegex: null, methods: [], headers: [] }],
    destination: {
      kind: 'backends', split: null, unready: 'fail',
      backends: [{
        service: 'shop/web', weight: 1, endpoints: primaries.map((p) => endpoint(p)),
        ...(options.backendHeaders ? { requestHeaders: options.backendHeaders } : {}),
      }],
    },
    route: { kind: scheme === 'h2c' ? 'GRPCRoute' : 'HTTPRoute', route: 'shop/web-route', index: 0, name: null },
    filters,
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  };
  return { ...base, services: [{ ...service, ports: [{ ...port, rules: [rule] }] }] };
}

/** An HTTP/1.1 server that records every request; `hold` leaves requests unanswered until released. */
async function recordingServer(name: string, hold = false): Promise<{ port: number; seen: Captured[]; release(): void; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const held: http.ServerResponse[] = [];
  const upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (hold) held.push(res);
      else res.end(`${name}\n`);
    });
  });
  return {
    port: upstream.port,
    seen,
    release: () => { for (const res of held.splice(0)) res.end(`${name}\n`); },
    close: () => upstream.close(),
  };
}

describe('RequestMirror over HTTP/1.1', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function setup(rule: (primary: number, shadow: number) => RuleOptions, shadowHolds = false, options: ProxyOptions = {}) {
    const primary = await recordingServer('primary');
    const shadow = await recordingServer('shadow', shadowHolds);
    const proxy = await startProxy(mirrorConfig('http', [primary.port], rule(primary.port, shadow.port)), options);
    closers.push(primary.close, async () => { shadow.release(); await shadow.close(); }, () => proxy.close());
    return { primary, shadow, proxy };
  }

  it('copies each request, body and rule header edits included, and answers with the primary only', async () => {
    const { primary, shadow, proxy } = await setup((_p, shadowPort) => ({
      mirrors: [{ port: shadowPort }],
      requestHeaders: { set: [{ name: 'x-rule', value: 'r' }], add: [], remove: ['x-drop'] },
      backendHeaders: { set: [{ name: 'x-backend', value: 'b' }], add: [], remove: [] },
    }));
    const reply = await request(proxy.port, { method: 'POST', path: '/orders?id=7', headers: { 'x-drop': '1', 'content-type': 'text/plain' }, body: 'hello mirror' });
    expect(reply.status).to.equal(200);
    expect(reply.body.toString()).to.equal('primary\n');
    await waitFor(() => proxy.mirrors.length === 1);
    expect(proxy.mirrors[0]).to.deep.equal({ destinationNamespace: 'shop', destinationService: 'shadow', outcome: 'answered' });
    const [copy] = shadow.seen as [Captured];
    expect(copy).to.include({ method: 'POST', url: '/orders?id=7', body: 'hello mirror' });
    expect(copy.headers['x-rule']).to.equal('r');
    expect(copy.headers['x-drop']).to.equal(undefined);
    // The backendRef's own edit belongs to the primary backend only.
    expect(copy.headers['x-backend']).to.equal(undefined);
    expect(primary.seen[0]?.headers['x-backend']).to.equal('b');
    expect(copy.headers['x-request-id']).to.equal(primary.seen[0]?.headers['x-request-id']);
    expect(proxy.mirrorSender.inFlight).to.equal(0);
  });

  it('copies a chunked body byte for byte', async () => {
    const { shadow, proxy } = await setup((_p, shadowPort) => ({ mirrors: [{ port: shadowPort }] }));
    const reply = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: '/chunked' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write('part one, ');
      req.end('part two');
    });
    expect(reply).to.equal(200);
    await waitFor(() => shadow.seen.length === 1);
    expect(shadow.seen[0]?.body).to.equal('part one, part two');
    expect(shadow.seen[0]?.headers['transfer-encoding']).to.equal('chunked');
  });

  it('never makes the client wait for a mirror that does not answer, and drops copies past the in-flight limit', async () => {
    const { primary, shadow, proxy } = await setup((_p, shadowPort) => ({ mirrors: [{ port: shadowPort }] }), true, { limits: { maxMirrorsInFlight: 2 } });
    for (let i = 0; i < 5; i++) {
      const reply = await request(proxy.port, { path: `/r${i}` });
      expect(reply.body.toString()).to.equal('primary\n');
    }
    expect(primary.seen).to.have.length(5);
    await waitFor(() => shadow.seen.length === 2);
    expect(proxy.mirrors.map((m) => m.outcome)).to.deep.equal(['overloaded', 'overloaded', 'overloaded']);
    expect(proxy.mirrorSender.inFlight).to.equal(2);
    shadow.release();
    await waitFor(() => proxy.mirrors.length === 5);
    expect(proxy.mirrors.slice(3).map((m) => m.outcome)).to.deep.equal(['answered', 'answered']);
    expect(proxy.mirrorSender.inFlight).to.equal(0);
  });

  it('cancels a copy that outlives the mirror timeout', async () => {
    const { shadow, proxy } = await setup((_p, shadowPort) => ({ mirrors: [{ port: shadowPort }] }), true, { limits: { mirrorTimeoutMs: 100 } });
    expect((await request(proxy.port)).status).to.equal(200);
    await waitFor(() => proxy.mirrors.length === 1);
    expect(proxy.mirrors[0]?.outcome).to.equal('timeout');
    expect(shadow.seen).to.have.length(1);
    expect(proxy.mirrorSender.inFlight).to.equal(0);
  });

  it('copies exactly the configured share of requests', async () => {
    const { primary, shadow, proxy } = await setup((_p, shadowPort) => ({ mirrors: [{ port: shadowPort, numerator: 25, denominator: 100 }] }));
    for (let i = 0; i < 40; i++) await request(proxy.port, { path: `/n${i}` });
    await waitFor(() => proxy.mirrors.length === 10);
    expect(primary.seen).to.have.length(40);
    expect(shadow.seen).to.have.length(10);
  });

  it('does not copy a body larger than the replay limit (counted), and still forwards it', async () => {
    const { primary, shadow, proxy } = await setup((_p, shadowPort) => ({ mirrors: [{ port: shadowPort }] }), false, { limits: { maxReplayBodyBytes: 1024 } });
    const body = 'x'.repeat(4096);
    const reply = await request(proxy.port, { method: 'POST', body });
    expect(reply.status).to.equal(200);
    expect(primary.seen[0]?.body).to.equal(body);
    await waitFor(() => proxy.mirrors.length === 1);
    expect(proxy.mirrors[0]?.outcome).to.equal('too-large');
    expect(shadow.seen).to.have.length(0);
  });

  it('counts a copy to a mirror Service with no ready endpoint, and a refused connection', async () => {
    const primary = await recordingServer('primary');
    const shadow = await recordingServer('shadow');
    const shadowPort = shadow.port;
    await shadow.close();
    const config = mirrorConfig('http', [primary.port], { mirrors: [{ port: shadowPort }] });
    const proxy = await startProxy(config);
    closers.push(primary.close, () => proxy.close());
    expect((await request(proxy.port)).status).to.equal(200);
    await waitFor(() => proxy.mirrors.length === 1);
    expect(proxy.mirrors[0]?.outcome).to.equal('failed');
    const port = config.services[0]?.ports[0];
    const rule = port?.rules[0] as HttpRule;
    const unready: HttpRule = { ...rule, filters: { ...(rule.filters as HttpFilters), mirrors: [{ service: 'shop/shadow', endpoints: [endpoint(shadowPort, '127.0.0.1', false)], numerator: 1, denominator: 1 }] } };
    proxy.reload({ ...config, services: [{ ...(config.services[0] as MeshConfig['services'][number]), ports: [{ ...(port as NonNullable<typeof port>), rules: [unready] }] }] });
    expect((await request(proxy.port)).status).to.equal(200);
    await waitFor(() => proxy.mirrors.length === 2);
    expect(proxy.mirrors[1]?.outcome).to.equal('no-endpoint');
  });
});

/** An h2c server recording each stream; `stall` leaves streams unanswered. */
async function h2Server(name: string, stall = false): Promise<{ port: number; seen: Captured[]; close(): Promise<void> }> {
  const server = http2.createServer();
  const seen: Captured[] = [];
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      seen.push({ method: String(headers[':method']), url: String(headers[':path']), headers: headers as http.IncomingHttpHeaders, body: Buffer.concat(chunks).toString() });
      if (stall) return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(name);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function call(session: http2.ClientHttp2Session, method: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: body === '' });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => { status = Number(headers[':status']); });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    if (body !== '') stream.end(body);
  });
}

describe('RequestMirror and timeouts.backendRequest over h2c', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function connect(proxy: ProxyUnderTest): Promise<http2.ClientHttp2Session> {
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    session.on('error', () => undefined);
    closers.push(() => { session.destroy(); });
    return session;
  }

  it('copies each stream with its body and the rule header edits; the caller gets the primary answer', async () => {
    const primary = await h2Server('primary');
    const shadow = await h2Server('shadow');
    closers.push(primary.close, shadow.close);
    const proxy = await startProxy(mirrorConfig('h2c', [primary.port], {
      mirrors: [{ port: shadow.port }], requestHeaders: { ...NO_EDITS, set: [{ name: 'x-rule', value: 'r' }] },
    }));
    closers.push(() => proxy.close());
    const session = await connect(proxy);
    const reply = await call(session, 'POST', '/demo.Greeter/Hello', 'grpc-frame');
    expect(reply).to.deep.equal({ status: 200, body: 'primary' });
    await waitFor(() => proxy.mirrors.length === 1);
    expect(proxy.mirrors[0]?.outcome).to.equal('answered');
    expect(shadow.seen[0]).to.include({ method: 'POST', url: '/demo.Greeter/Hello', body: 'grpc-frame' });
    expect(shadow.seen[0]?.headers['x-rule']).to.equal('r');
  });

  it('answers 504 when an attempt outlives backendRequest, and retries an idempotent one elsewhere', async () => {
    const stalled = await h2Server('stalled', true);
    const healthy = await h2Server('healthy');
    closers.push(stalled.close, healthy.close);
    const timeouts: RuleTimeouts = { requestMs: null, backendRequestMs: 150 };
    const single = await startProxy(mirrorConfig('h2c', [stalled.port], { mirrors: [], timeouts }));
    closers.push(() => single.close());
    const post = await call(await connect(single), 'POST', '/demo.Greeter/Hello', 'x');
    expect(post.status).to.equal(504);
    const config = mirrorConfig('h2c', [stalled.port, healthy.port], { mirrors: [], timeouts });
    const service = config.services[0] as MeshConfig['services'][number];
    const retrying = await startProxy({ ...config, services: [{ ...service, policy: { ...service.policy, retryAttempts: 1 } }] });
    closers.push(() => retrying.close());
    const session = await connect(retrying);
    // Round-robin sends the first GET to the stalled endpoint: its attempt times out and the retry lands on the healthy one.
    const get = await call(session, 'GET', '/status', '');
    expect(get).to.deep.equal({ status: 200, body: 'healthy' });
    expect(retrying.records[0]?.retries).to.equal(1);
  });
});
