/**
 * Generated inputs (seeded, so a failure replays): hundreds of request paths and request heads
 * sent through the real proxies to recording endpoints. Under --acl the caller may only access
 * paths matching `/public`; every generated input also tries to reach `/admin`.
 *
 * - paths: the path authorized is the path the endpoint resolves (WHATWG URL resolution as an
 *   independent reader), over HTTP/1.1 and h2c;
 * - heads: whatever the head, the proxy never crashes, and the endpoint never receives a request
 *   that was not authorized, nor more requests than were authorized.
 */
import { expect } from 'chai';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { CLIENT_IP, closeServer, IDENTITIES, listen, meshConfig, type ProxyUnderTest, PUBLIC_ONLY, rawSend, startProxy, statusesOf } from './harness.js';
import { RawBackend } from './raw-backend.js';
import { seededRandom as prng } from '../../helpers/prng.js';

const SMUGGLED = 'DELETE /admin HTTP/1.1\r\nHost: web\r\n\r\n';

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const SEGMENTS = [
  'public', 'public', 'admin', 'a', '.', '..', '..', '%2e', '%2E%2e', '.%2e', '%2e.', '', 'x;y', ';', '..;', '.;a', '%2e%2e;',
  '%41', '%7e', '%2f', '%2F', '%5c', '\\', '%25', '%252e', '%zz', '%', 'b%20c', '.well-known', '~u', 'PUBLIC', '%00',
  'p%3bq', "!$&'()*+,=:@", 'pub%6cic',
];

function generatePath(random: () => number): string {
  let path = '';
  const count = 1 + Math.floor(random() * 5);
  for (let i = 0; i < count; i++) path += (random() < 0.9 ? '/' : '\\') + pick(random, SEGMENTS);
  if (!path.startsWith('/')) path = `/${path.slice(1)}`;
  if (random() < 0.2) path += '?q=/../admin';
  return path;
}

const HEX_ENCODING = /%([0-9A-Fa-f]{2})/g;

/**
 * What a server that merges slashes and reads `target` with WHATWG URL rules resolves, with
 * unreserved characters decoded.
 */
function serverPath(target: string): string {
  const query = target.indexOf('?');
  const merged = (query === -1 ? target : target.slice(0, query)).replace(/(?<!:)\/{2,}/g, '/') + (query === -1 ? '' : target.slice(query));
  // An origin-form target is a path, even one starting with `//` (RFC 9112 §3.2.1).
  const { pathname } = new URL(merged.startsWith('/') ? `http://web${merged}` : merged);
  return pathname.replace(HEX_ENCODING, (_match, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** The default policy refuses these: escaped or back slashes, NUL, a bad escape, a dot-segment with parameters. */
function refusable(target: string): boolean {
  const decoded = target.split('?')[0]?.replace(/%2e/gi, '.') ?? '';
  return /%2f|%5c|\\|%00|%(?![0-9a-f]{2})/i.test(target) || /(^|\/)\.\.?;/.test(decoded);
}

/** A servlet container strips `;parameters` from each segment: no `.` or `..` may appear then. */
function hasHiddenDotSegment(path: string): boolean {
  return path.split('/').some((segment) => /^\.\.?$/.test(segment.split(';')[0] ?? '') && segment.includes(';'));
}

function aclConfig(port: number, scheme: 'http' | 'h2c' = 'http') {
  return meshConfig({ endpoints: [{ port }], identities: IDENTITIES, access: PUBLIC_ONLY, scheme });
}

describe('generated paths: the path authorized is the path the endpoint resolves', function () {
  this.timeout(120_000);
  let backend: RawBackend;
  let proxy: ProxyUnderTest;

  before(async () => {
    backend = await RawBackend.start();
    proxy = await startProxy(aclConfig(backend.port), { acl: true });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('HTTP/1.1: 400 generated targets (seed 20)', async () => {
    const random = prng(20);
    const counts = { 200: 0, 403: 0, 400: 0 };
    for (let i = 0; i < 400; i++) {
      const raw = random() < 0.15 ? `http://web${generatePath(random)}` : generatePath(random);
      const seen = backend.requests.length;
      const reply = await rawSend(proxy.port, `GET ${raw} HTTP/1.1\r\nHost: web\r\n\r\n`, CLIENT_IP);
      const [status] = statusesOf(reply.text);
      const record = proxy.records[proxy.records.length - 1];
      const context = `case ${i}: ${raw} → ${status} ${reply.text.split('\r\n\r\n')[1] ?? ''}`;
      const received = backend.requests.slice(seen);
      if (status === 200) {
        expect(received, context).to.have.length(1);
        const target = received[0]?.target ?? '';
        const sentPath = target.split('?')[0] as string;
        expect(record?.path, context).to.equal(sentPath);
        expect(sentPath, context).to.match(/^\/public/);
        expect(serverPath(target), context).to.equal(sentPath);
        expect(serverPath(raw), context).to.equal(sentPath);
        expect(hasHiddenDotSegment(sentPath), context).to.equal(false);
      } else if (status === 403) {
        expect(received, context).to.deep.equal([]);
        expect(record?.path, context).to.equal(serverPath(raw));
        expect(record?.path, context).to.not.match(/^\/public/);
      } else {
        expect(status, context).to.equal(400);
        expect(received, context).to.deep.equal([]);
        expect(refusable(raw), context).to.equal(true);
      }
      counts[status as 200 | 403 | 400]++;
    }
    // The generator reaches every outcome.
    expect(counts[200]).to.be.greaterThan(10);
    expect(counts[403]).to.be.greaterThan(10);
    expect(counts[400]).to.be.greaterThan(10);
    const view = await backend.serverView();
    expect(view.errors).to.deep.equal([]);
    expect(view.requests.map((r) => r.url)).to.deep.equal(backend.requests.map((r) => r.target));
  });
});

describe('generated paths over h2c: the path authorized is the :path sent', function () {
  this.timeout(120_000);

  it('200 generated :path values (seed 21)', async () => {
    const paths: string[] = [];
    const upstream = http2.createServer();
    upstream.on('stream', (stream, headers) => {
      paths.push(String(headers[':path']));
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const port = await listen(upstream);
    const proxy = await startProxy(aclConfig(port, 'h2c'), { acl: true });
    const client = http2.connect(`http://127.0.0.1:${proxy.port}`, { createConnection: () => net.connect({ host: '127.0.0.1', port: proxy.port, localAddress: CLIENT_IP }) });
    try {
      const random = prng(21);
      for (let i = 0; i < 200; i++) {
        const raw = generatePath(random);
        const seen = paths.length;
        const status = await new Promise<number>((resolve, reject) => {
          const stream = client.request({ ':path': raw });
          stream.on('response', (headers) => resolve(Number(headers[':status'])));
          stream.on('error', reject);
          stream.resume();
          stream.end();
        });
        const context = `case ${i}: ${raw} → ${status}`;
        const record = proxy.records[proxy.records.length - 1];
        if (status === 200) {
          expect(paths.slice(seen), context).to.have.length(1);
          const sentPath = (paths[seen] as string).split('?')[0] as string;
          expect(record?.path, context).to.equal(sentPath);
          expect(sentPath, context).to.match(/^\/public/);
          expect(serverPath(raw), context).to.equal(sentPath);
        } else {
          expect(paths.slice(seen), context).to.deep.equal([]);
          expect([400, 403], context).to.include(status);
          if (status === 403) expect(record?.path, context).to.not.match(/^\/public/);
        }
      }
    } finally {
      client.close();
      await proxy.close();
      await closeServer(upstream);
    }
  });
});

/** Methods llhttp knows (the proxy forwards any token; Node servers refuse the ones they do not know). */
const METHODS = ['GET', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PROPFIND', 'PATCH', 'G ET'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'http/1.1'];
const CONNECTION_TOKENS = ['close', 'keep-alive', 'Keep-Alive', 'upgrade', 'content-length', 'Content-Length', 'host', 'transfer-encoding', 'x-a', 'te', 'HTTP2-Settings'];

function generateField(random: () => number, body: string): string {
  const length = pick(random, [String(body.length), String(body.length), '0', '5', `+${body.length}`, `${body.length}, ${body.length}`, '-1', '']);
  const choice = Math.floor(random() * 14);
  switch (choice) {
    case 0: return pick(random, ['Host: web', 'host:web', 'Host : web', 'Host: admin']);
    case 1: case 2: return `Content-Length: ${length}`;
    case 3: case 4: return `Transfer-Encoding: ${pick(random, ['chunked', 'Chunked', 'chunked, identity', '\tchunked', 'xchunked', 'identity'])}`;
    case 5: case 6: {
      const count = 1 + Math.floor(random() * 3);
      const tokens: string[] = [];
      for (let i = 0; i < count; i++) tokens.push(pick(random, CONNECTION_TOKENS));
      return `${pick(random, ['Connection', 'connection', 'CONNECTION'])}: ${tokens.join(pick(random, [', ', ',', ' , ']))}`;
    }
    case 7: return `Upgrade: ${pick(random, ['websocket', 'h2c', 'foo', 'WebSocket', 'websocket, h2c'])}`;
    case 8: return pick(random, ['TE: trailers', 'Expect: 100-continue', 'X-Forwarded-For: 1.2.3.4', 'Trailer: X-T', 'Keep-Alive: timeout=5']);
    case 9: return pick(random, [' Transfer-Encoding: chunked', 'Transfer-Encoding : chunked', 'X-A: 1\x002', 'X-B: a\rb', 'X C: 1']);
    case 10: return `HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA`;
    default: return `X-${Math.floor(random() * 100)}: ${'v'.repeat(Math.floor(random() * 20))}`;
  }
}

function generateHead(random: () => number): string {
  const body = pick(random, ['', SMUGGLED, `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`, `0\r\n\r\n${SMUGGLED}`, 'abc']);
  const target = random() < 0.3 ? generatePath(random) : pick(random, ['/public', '/public/x', '*', 'http://web/public', '/admin']);
  const lines = [`${pick(random, METHODS)} ${target} ${pick(random, VERSIONS)}`];
  if (random() < 0.85) lines.push('Host: web');
  const count = Math.floor(random() * 6);
  for (let i = 0; i < count; i++) lines.push(generateField(random, body));
  let head = '';
  for (const line of lines) head += line + (random() < 0.03 ? '\n' : '\r\n');
  return `${head}\r\n${body}`;
}

describe('generated request heads: never a crash, never an unauthorized or extra request upstream', function () {
  this.timeout(180_000);

  it('500 generated heads (seed 2020)', async () => {
    const backend = await RawBackend.start();
    const proxy = await startProxy(aclConfig(backend.port), { acl: true });
    try {
      const random = prng(2020);
      let hung = 0;
      for (let i = 0; i < 500; i++) {
        const head = generateHead(random);
        const forwardedBefore = proxy.records.filter((r) => r.endpoint !== null).length;
        const seen = backend.requests.length;
        const reply = await rawSend(proxy.port, head, CLIENT_IP);
        if (reply.hung) hung++;
        const forwarded = proxy.records.filter((r) => r.endpoint !== null).length - forwardedBefore;
        const context = `case ${i}: ${JSON.stringify(head)} → ${JSON.stringify(reply.text.slice(0, 200))}`;
        const received = backend.requests.slice(seen);
        expect(received.length, context).to.be.at.most(forwarded);
        for (const request of received) expect(request.target, context).to.match(/^\/public/);
      }
      expect(hung).to.equal(0);
      // Read back by a real server's parser: exactly the authorized requests, all to /public.
      const view = await backend.serverView();
      expect(view.errors).to.deep.equal([]);
      expect(view.requests.length).to.equal(proxy.records.filter((r) => r.endpoint !== null).length);
      for (const request of view.requests) expect(request.url).to.match(/^\/public/);
      expect(view.requests.length).to.be.greaterThan(20);
    } finally {
      await proxy.close();
      await backend.close();
    }
  });
});
