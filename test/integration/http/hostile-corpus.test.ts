/**
 * A raw-bytes corpus of hostile requests and broken responses, each sent through the real
 * HTTP/1.1 proxy to a raw TCP endpoint that records every byte. Each case asserts what the
 * endpoint received (read back by llhttp, as a real server would read it), not only what the
 * client saw. Under --acl, the caller 127.0.0.2 (shop/client) may only access paths matching
 * `/public`.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import * as net from 'node:net';
import { CLIENT_IP, IDENTITIES, meshConfig, type ProxyUnderTest, PUBLIC_ONLY, rawSend, startProxy, statusesOf, waitFor } from './harness.js';
import { OK_RESPONSE, RawBackend, type Responder, SWITCHING_RESPONDER, type ServerView } from './raw-backend.js';

const SMUGGLED = 'DELETE /admin HTTP/1.1\r\nHost: web\r\nX-Smuggled: 1\r\n\r\n';

interface Outcome {
  readonly statuses: number[];
  readonly text: string;
  readonly hung: boolean;
  readonly backend: ServerView;
  readonly raw: string;
  readonly connections: number;
  readonly proxy: ProxyUnderTest;
}

async function exchange(request: string, respond: Responder = () => OK_RESPONSE): Promise<Outcome> {
  const backend = await RawBackend.start(respond);
  const proxy = await startProxy(meshConfig({ endpoints: [{ port: backend.port }], identities: IDENTITIES, access: PUBLIC_ONLY }), { acl: true });
  try {
    const reply = await rawSend(proxy.port, request, CLIENT_IP);
    return {
      statuses: statusesOf(reply.text), text: reply.text, hung: reply.hung,
      backend: await backend.serverView(), raw: backend.text(), connections: backend.connections.length, proxy,
    };
  } finally {
    await proxy.close();
    await backend.close();
  }
}

function withBody(head: string, body: string): string {
  return `${head}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

describe('HTTP/1.1 proxy: hostile requests (raw bytes, what the endpoint received)', function () {
  this.timeout(60_000);

  describe('smuggling through Connection: framing and Host are never removed', () => {
    const connectionValues = [
      'content-length', 'Content-Length', 'CONTENT-LENGTH', ' content-length ', 'keep-alive, content-length',
      'close,content-length', 'content-length, close', 'Upgrade, Content-Length', 'host', 'Host, keep-alive',
      'transfer-encoding', 'authorization',
    ];
    for (const value of connectionValues) {
      it(`Connection: ${JSON.stringify(value)} → 400, nothing reaches the endpoint`, async () => {
        const outcome = await exchange(withBody(`GET /public HTTP/1.1\r\nHost: web\r\nConnection: ${value}\r\n`, SMUGGLED));
        expect(outcome.statuses).to.deep.equal([400]);
        expect(outcome.backend.requests).to.deep.equal([]);
        expect(outcome.raw).to.equal('');
      });
    }

    it('a second Connection field naming Content-Length → 400', async () => {
      const outcome = await exchange(withBody('GET /public HTTP/1.1\r\nHost: web\r\nConnection: keep-alive\r\nConnection: content-length\r\n', SMUGGLED));
      expect(outcome.statuses).to.deep.equal([400]);
      expect(outcome.raw).to.equal('');
    });

    it('HTTP/1.0 with Connection: keep-alive, content-length → 400', async () => {
      const outcome = await exchange(withBody('GET /public HTTP/1.0\r\nConnection: keep-alive, content-length\r\n', SMUGGLED));
      expect(outcome.statuses).to.deep.equal([400]);
      expect(outcome.raw).to.equal('');
    });

    it('Connection: transfer-encoding with a chunked body hiding a request → 400', async () => {
      const body = `${(SMUGGLED.length).toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
      const outcome = await exchange(`POST /public HTTP/1.1\r\nHost: web\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
      expect(outcome.statuses).to.deep.equal([400]);
      expect(outcome.raw).to.equal('');
    });

    it('a hop-by-hop extension field named in Connection is removed, the body still framed', async () => {
      const outcome = await exchange(withBody('POST /public HTTP/1.1\r\nHost: web\r\nConnection: x-hop\r\nX-Hop: 1\r\n', SMUGGLED));
      expect(outcome.statuses).to.deep.equal([200]);
      expect(outcome.backend.requests.map((r) => [r.method, r.url, r.headers['x-hop']])).to.deep.equal([['POST', '/public', undefined]]);
      expect(outcome.backend.errors).to.deep.equal([]);
    });
  });

  describe('classic framing ambiguities → 400, nothing reaches the endpoint', () => {
    const heads: Record<string, string> = {
      'CL + TE': `POST /public HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      'TE + CL': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      'TE: xchunked': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      'TE: chunked, identity': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
      'TE twice': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
      'TE with space before colon': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      'TE folded': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
      'TE in HTTP/1.0': `POST /public HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'CL twice, different': `POST /public HTTP/1.1\r\nHost: web\r\nContent-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
      'CL list': `POST /public HTTP/1.1\r\nHost: web\r\nContent-Length: 0, ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
      'CL negative': `POST /public HTTP/1.1\r\nHost: web\r\nContent-Length: -1\r\n\r\n`,
      'chunk size with junk after a space': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n`,
      'chunk size 0x5': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
      'chunk with bare LF': `POST /public HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n`,
      'bare LF head': 'GET /public HTTP/1.1\nHost: web\n\n',
      'two Host fields': 'GET /public HTTP/1.1\r\nHost: web\r\nHost: admin\r\n\r\n',
      'no Host in HTTP/1.1': 'GET /public HTTP/1.1\r\n\r\n',
    };
    for (const [name, request] of Object.entries(heads)) {
      it(name, async () => {
        const outcome = await exchange(request);
        expect(outcome.statuses[0], outcome.text).to.equal(400);
        expect(outcome.backend.requests.filter((r) => r.url.includes('admin'))).to.deep.equal([]);
        expect(outcome.raw).to.not.include('X-Smuggled');
      });
    }
  });

  it('a pipelined second request is authorized on its own', async () => {
    const outcome = await exchange(`GET /public HTTP/1.1\r\nHost: web\r\n\r\n${SMUGGLED}`);
    expect(outcome.statuses).to.deep.equal([200, 403]);
    expect(outcome.backend.requests.map((r) => r.url)).to.deep.equal(['/public']);
  });

  describe('the path authorized is the path sent', () => {
    const refused: Record<string, number> = {
      '/public/../admin': 403,
      '/public/%2e%2e/admin': 403,
      '/public/%2E%2E/admin': 403,
      '/public/.%2e/admin': 403,
      '/public/./../admin': 403,
      '/public;/../admin': 403,
      '/public/..;/admin': 400,
      '/public/%2e%2e;/admin': 400,
      '/public\\..\\admin': 400,
      '/public%2f..%2fadmin': 400,
      '/public/%2e%2e%2fadmin': 400,
      '/public%5c..%5cadmin': 400,
      'http://web?/public': 403,
      'http://web/public/../admin': 403,
      'HTTP://web/admin': 403,
      '/public#/../admin': 400,
      '/public/%00/../admin': 400,
    };
    for (const [target, status] of Object.entries(refused)) {
      it(`GET ${target} → ${status}, nothing reaches the endpoint`, async () => {
        const outcome = await exchange(`GET ${target} HTTP/1.1\r\nHost: web\r\n\r\n`);
        expect(outcome.statuses).to.deep.equal([status]);
        expect(outcome.raw).to.equal('');
      });
    }

    const allowed: Record<string, string> = {
      '/public/a/../b': '/public/b',
      '/public/%61': '/public/a',
      '/x/../public/?q=/../admin': '/public/?q=/../admin',
      'http://web/public/x': '/public/x',
      'http://web:80/public/./y?z': '/public/y?z',
    };
    for (const [target, sent] of Object.entries(allowed)) {
      it(`GET ${target} → 200, the endpoint gets ${sent}`, async () => {
        const outcome = await exchange(`GET ${target} HTTP/1.1\r\nHost: other\r\n\r\n`);
        expect(outcome.statuses).to.deep.equal([200]);
        expect(outcome.backend.requests.map((r) => r.url)).to.deep.equal([sent]);
        expect(outcome.proxy.records.map((r) => r.path)).to.deep.equal([sent.split('?')[0]]);
        if (target.startsWith('http://')) expect(outcome.backend.requests[0]?.headers.host).to.equal(target.split('/')[2]);
      });
    }
  });

  describe('upgrades: only WebSocket passes, and it is authorized like any request', () => {
    it('Upgrade: h2c is declined: a plain HTTP/1.1 request reaches the endpoint, no 101', async () => {
      const outcome = await exchange('GET /public HTTP/1.1\r\nHost: web\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n' +
        'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', SWITCHING_RESPONDER);
      expect(outcome.statuses[0]).to.equal(200);
      expect(outcome.statuses).to.not.include(101);
      expect(outcome.raw.toLowerCase()).to.not.include('upgrade').and.not.include('http2-settings');
      expect(outcome.backend.requests.map((r) => r.url)).to.deep.equal(['/public']);
    });

    for (const [name, head] of Object.entries({
      'Upgrade: tls/1.2': 'GET /public HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: tls/1.2\r\n\r\n',
      'Upgrade: websocket, h2c': 'GET /public HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket, h2c\r\n\r\n',
      'POST with Upgrade: websocket': 'POST /public HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n',
      'WebSocket with a body': `GET /public HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    })) {
      it(`${name} → 400, nothing reaches the endpoint`, async () => {
        const outcome = await exchange(head, SWITCHING_RESPONDER);
        expect(outcome.statuses).to.deep.equal([400]);
        expect(outcome.raw).to.equal('');
      });
    }

    it('a WebSocket upgrade to a path the caller may not access → 403, nothing reaches the endpoint', async () => {
      const outcome = await exchange('GET /admin HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', SWITCHING_RESPONDER);
      expect(outcome.statuses).to.deep.equal([403]);
      expect(outcome.raw).to.equal('');
    });

    it('a granted WebSocket upgrade becomes a tunnel', async () => {
      const outcome = await exchange('GET /public HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nframe-bytes', SWITCHING_RESPONDER);
      expect(outcome.statuses).to.deep.equal([101]);
      expect(outcome.hung).to.equal(false);
      expect(outcome.raw).to.match(/^GET \/public HTTP\/1\.1\r\n[^]*Upgrade: websocket\r\nConnection: upgrade\r\n[^]*\r\n\r\nframe-bytes$/);
    });

    it('a non-101 answer to a WebSocket request: the endpoint connection is not reused', async () => {
      const backend = await RawBackend.start(() => OK_RESPONSE);
      const proxy = await startProxy(meshConfig({ endpoints: [{ port: backend.port }] }));
      try {
        await rawSend(proxy.port, 'GET /ws HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
        await rawSend(proxy.port, 'GET /next HTTP/1.1\r\nHost: web\r\n\r\n');
        expect(backend.requests.map((r) => [r.target, r.connection])).to.deep.equal([['/ws', 0], ['/next', 1]]);
      } finally {
        await proxy.close();
        await backend.close();
      }
    });
  });
});

describe('HTTP/1.1 proxy: broken endpoints (raw bytes) get the client a 502 or a cut, never a hang', function () {
  this.timeout(60_000);
  const REQUEST = 'GET /public HTTP/1.1\r\nHost: web\r\n\r\n';

  const broken: Record<string, string> = {
    'a head over 64 KiB (complete)': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\nContent-Length: 2\r\n\r\nok`,
    'a head over 64 KiB (never ending)': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}`,
    'a bare-LF head': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
    'a bare LF in one line': 'HTTP/1.1 200 OK\r\nContent-Length: 2\nX-A: 1\r\n\r\nok',
    'an invalid chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'a chunk size with junk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n',
    'a negative chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nhello\r\n0\r\n\r\n',
    'an oversized chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n',
    'chunk data longer than its size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n',
    'CL + TE': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'two Content-Lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
    'Connection: content-length': 'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\nok',
    'Connection: Transfer-Encoding': 'HTTP/1.1 200 OK\r\nConnection: keep-alive, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'chunked in HTTP/1.0': 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'a 101 to a plain request': 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n',
    'a space before a colon': 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    'a folded header': 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok',
    'a malformed status line': 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok',
    'endless interim responses': 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(40),
  };
  for (const [name, response] of Object.entries(broken)) {
    it(`${name} → 502`, async () => {
      const outcome = await exchange(REQUEST, () => response);
      expect(outcome.hung, outcome.text).to.equal(false);
      expect(outcome.statuses.filter((s) => s >= 200), outcome.text.slice(0, 300)).to.deep.equal([502]);
      expect(outcome.proxy.records.map((r) => r.status)).to.deep.equal([502]);
    });
  }

  it('a 101 to another protocol than the WebSocket asked for → 502', async () => {
    const outcome = await exchange('GET /public HTTP/1.1\r\nHost: web\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
      () => 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n');
    expect(outcome.statuses).to.deep.equal([502]);
  });

  it('broken chunk framing after the head was relayed: the client connection is cut, not left waiting', async () => {
    let sent = 0;
    const backend = await RawBackend.start(() => (sent++ === 0 ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' : null));
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: backend.port }] }));
    try {
      const client = net.connect({ host: '127.0.0.1', port: proxy.port });
      let received = '';
      client.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
      const closed = once(client, 'close');
      client.write(REQUEST);
      // The head went out alone; the next bytes from the endpoint break the framing.
      await waitFor(() => received.includes('\r\n\r\n'));
      backend.write(0, 'zz\r\n');
      await closed;
      expect(received).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(proxy.records.map((r) => r.reason)).to.deep.equal(['upstream-error']);
    } finally {
      await proxy.close();
      await backend.close();
    }
  });

  it('extra bytes after a complete response: the client gets the response only, the connection is not reused', async () => {
    const backend = await RawBackend.start(() => `${OK_RESPONSE}HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil`);
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: backend.port }] }));
    try {
      const first = await rawSend(proxy.port, REQUEST);
      const second = await rawSend(proxy.port, REQUEST);
      for (const reply of [first, second]) {
        expect(statusesOf(reply.text)).to.deep.equal([200]);
        expect(reply.text).to.match(/\r\n\r\nok$/);
      }
      expect(backend.requests.map((r) => r.connection)).to.deep.equal([0, 1]);
    } finally {
      await proxy.close();
      await backend.close();
    }
  });
});
