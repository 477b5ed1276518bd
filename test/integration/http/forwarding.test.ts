import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import {
  type ProxyUnderTest, type UpstreamServer, closeServer, listen, meshConfig, rawExchange, request, startProxy, startUpstream,
} from './harness.js';

describe('HTTP/1.1 proxy: forwarding', function () {
  let upstream: UpstreamServer;
  let proxy: ProxyUnderTest;
  let seen: http.IncomingMessage[];

  beforeEach(async () => {
    seen = [];
    upstream = await startUpstream((req, res) => {
      seen.push(req);
      if (req.url === '/echo') {
        const hash = createHash('sha256');
        req.on('data', (chunk: Buffer) => hash.update(chunk));
        req.on('end', () => res.end(hash.digest('hex')));
        return;
      }
      if (req.url === '/mirror') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      if (req.url === '/head') {
        res.writeHead(200, { 'content-length': '100' });
        res.end();
        return;
      }
      if (req.url === '/204') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.url === '/304') {
        res.writeHead(304, { etag: '"x"' });
        res.end();
        return;
      }
      if (req.url === '/chunked') {
        res.write('part1-');
        setImmediate(() => res.end('part2'));
        return;
      }
      req.resume();
      req.on('end', () => res.end(`path=${req.url}`));
    });
    proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }));
  });

  afterEach(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('forwards a request, keeps Host, sets X-Forwarded-*, strips hop-by-hop fields', async () => {
    const reply = await request(proxy.port, {
      path: '/a?b=1',
      headers: {
        host: 'web.shop.plexus',
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic abc',
        te: 'trailers',
        'x-forwarded-for': '10.9.9.9',
        'x-forwarded-proto': 'https',
        'x-end-to-end': 'kept',
      },
    });
    expect(reply.status).to.equal(200);
    expect(reply.body.toString()).to.equal('path=/a?b=1');
    const headers = seen[0]?.headers ?? {};
    expect(headers.host).to.equal('web.shop.plexus');
    expect(headers['x-forwarded-for']).to.equal('10.9.9.9, 127.0.0.1');
    expect(headers['x-forwarded-proto']).to.equal('http');
    expect(headers['x-end-to-end']).to.equal('kept');
    for (const name of ['x-secret', 'keep-alive', 'proxy-authorization', 'te']) expect(headers, name).not.to.have.property(name);
    expect(reply.headers).not.to.have.property('keep-alive');
    expect(proxy.records).to.have.length(1);
    expect(proxy.records[0]).to.include({
      protocol: 'http', status: 200, method: 'GET', path: '/a', backend: 'shop/web', endpoint: `127.0.0.1:${upstream.port}`,
      retries: 0, reason: '', destinationService: 'web', destinationNamespace: 'shop', destinationPort: 80, sourceIp: '127.0.0.1',
    });
  });

  it('reuses keep-alive connections on both sides', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies = [];
      for (let i = 0; i < 20; i++) replies.push(await request(proxy.port, { agent, path: `/r${i}` }));
      expect(replies.map((r) => r.status)).to.deep.equal(new Array(20).fill(200));
      expect(replies.slice(1).every((r) => r.reusedSocket)).to.equal(true);
      expect(upstream.connections).to.equal(1);
      expect(proxy.records).to.have.length(20);
      expect(proxy.upstreams.http1.idleCount(`127.0.0.1:${upstream.port}`)).to.equal(1);
    } finally {
      agent.destroy();
    }
  });

  it('serves concurrent keep-alive clients with one record per request and no failures', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    try {
      const total = 500;
      let next = 0;
      const statuses: number[] = [];
      const worker = async (): Promise<void> => {
        while (next < total) {
          const index = next++;
          const reply = index % 5 === 0
            ? await request(proxy.port, { agent, method: 'POST', path: '/echo', body: `body-${index}` })
            : await request(proxy.port, { agent, path: `/n${index}` });
          statuses.push(reply.status);
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      expect(statuses.filter((status) => status !== 200)).to.deep.equal([]);
      expect(proxy.records).to.have.length(total);
      expect(upstream.connections).to.be.at.most(10);
    } finally {
      agent.destroy();
    }
  });

  it('passes request bodies with Content-Length and chunked coding', async () => {
    const body = Buffer.alloc(1000, 'x');
    const expected = createHash('sha256').update(body).digest('hex');
    const withLength = await request(proxy.port, { method: 'POST', path: '/echo', body, headers: { 'content-length': body.length } });
    expect(withLength.body.toString()).to.equal(expected);
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/echo' }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 300));
      setImmediate(() => req.end(body.subarray(300)));
    });
    expect(chunked).to.equal(expected);
    expect(seen[1]?.headers['transfer-encoding']).to.equal('chunked');
  });

  it('streams large bodies both ways with backpressure', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: '/mirror' }, (res) => {
        const chunks: Buffer[] = [];
        // A slow reader at first, so the proxy has to stop reading from the endpoint.
        res.pause();
        setTimeout(() => res.resume(), 50);
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      let offset = 0;
      const writeMore = (): void => {
        while (offset < body.length) {
          const piece = body.subarray(offset, offset + 65536);
          offset += piece.length;
          if (!req.write(piece)) {
            req.once('drain', writeMore);
            return;
          }
        }
        req.end();
      };
      writeMore();
    });
    expect(reply.length).to.equal(body.length);
    expect(reply.equals(body)).to.equal(true);
    expect(proxy.records).to.have.length(1);
  });

  it('knows that HEAD, 204 and 304 responses have no body, on one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const head = await request(proxy.port, { agent, method: 'HEAD', path: '/head' });
      expect(head.status).to.equal(200);
      expect(head.headers['content-length']).to.equal('100');
      expect((await request(proxy.port, { agent, path: '/204' })).status).to.equal(204);
      expect((await request(proxy.port, { agent, path: '/304' })).status).to.equal(304);
      const after = await request(proxy.port, { agent, path: '/after' });
      expect(after.body.toString()).to.equal('path=/after');
      expect(after.reusedSocket).to.equal(true);
      expect(upstream.connections).to.equal(1);
    } finally {
      agent.destroy();
    }
  });

  it('passes chunked responses through unchanged', async () => {
    const reply = await request(proxy.port, { path: '/chunked' });
    expect(reply.body.toString()).to.equal('part1-part2');
    expect(reply.headers['transfer-encoding']).to.equal('chunked');
  });

  it('answers pipelined requests in order', async () => {
    const text = await rawExchange(proxy.port,
      'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const bodies = [...text.matchAll(/path=\/[a-z]+/g)].map((m) => m[0]);
    expect(bodies).to.deep.equal(['path=/one', 'path=/two', 'path=/three']);
    expect(proxy.records.map((r) => r.path)).to.deep.equal(['/one', '/two', '/three']);
  });

  it('parses heads and chunked bodies that arrive one byte at a time', async () => {
    const message = 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n' +
      'GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
      socket.setNoDelay(true);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
      let offset = 0;
      const writeNext = (): void => {
        if (offset >= message.length) return;
        socket.write(message[offset++] as string, () => setImmediate(writeNext));
      };
      writeNext();
    });
    expect(text).to.include(createHash('sha256').update('abcde').digest('hex'));
    expect(text.endsWith('path=/next')).to.equal(true);
    expect(proxy.records.map((r) => r.status)).to.deep.equal([200, 200]);
  });

  it('rejects a smuggling attempt with 400 and closes, without reaching the endpoint', async () => {
    const text = await rawExchange(proxy.port,
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text).to.match(/^HTTP\/1\.1 400 /);
    expect(text).to.include('both Content-Length and Transfer-Encoding');
    expect(text.match(/HTTP\/1\.1/g)).to.have.length(1);
    expect(seen).to.have.length(0);
    expect(proxy.records.map((r) => [r.status, r.reason])).to.deep.equal([[400, 'bad-request']]);
  });

  it('rejects a malformed chunked body with 400', async () => {
    const text = await rawExchange(proxy.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(text).to.match(/^HTTP\/1\.1 400 /);
    expect(proxy.records.at(-1)?.status).to.equal(400);
  });
});

describe('HTTP/1.1 proxy: endpoints that close the connection', () => {
  let raw: net.Server;
  let proxy: ProxyUnderTest;

  before(async () => {
    raw = net.createServer((socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body');
      });
    });
    const port = await listen(raw);
    proxy = await startProxy(meshConfig({ endpoints: [{ port }] }));
  });

  after(async () => {
    await proxy.close();
    await closeServer(raw);
  });

  it('relays a close-delimited response and closes the client connection after it', async () => {
    const text = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).to.include('Connection: close\r\n');
    expect(text.endsWith('\r\n\r\nclose-delimited body')).to.equal(true);
    expect(proxy.records).to.have.length(1);
  });
});
