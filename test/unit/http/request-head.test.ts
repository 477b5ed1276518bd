import { expect } from 'chai';
import { HeadError } from '../../../src/node-agent/http/http1/head-error.js';
import { parseRequestHead } from '../../../src/node-agent/http/http1/request-head.js';
import { DEFAULT_PATH_POLICY } from '../../../src/node-agent/http/request-target.js';
import { parseResponseHead } from '../../../src/node-agent/http/http1/response-head.js';

function parse(head: string) {
  const buffer = Buffer.from(head, 'latin1');
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) throw new Error('test head has no end');
  return parseRequestHead(buffer, end + 4, DEFAULT_PATH_POLICY);
}

function rejection(head: string): { status: number; message: string } {
  try {
    parse(head);
  } catch (error) {
    if (error instanceof HeadError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(head)}`);
}

describe('HTTP/1.1 request head parser', () => {
  it('parses the request line, fields and framing', () => {
    const head = parse('POST /a/b?x=1 HTTP/1.1\r\nHost: web\r\nContent-Length: 12\r\nX-Multi: 1\r\nx-multi:  2 \r\n\r\n');
    expect(head.method).to.equal('POST');
    expect(head.target).to.equal('/a/b?x=1');
    expect(head.path).to.equal('/a/b');
    expect(head.minorVersion).to.equal(1);
    expect(head.contentLength).to.equal(12);
    expect(head.chunked).to.equal(false);
    expect(head.keepAlive).to.equal(true);
    expect(head.header('x-multi')).to.equal('1, 2');
    expect(head.header('host')).to.equal('web');
    expect(head.fields.names).to.deep.equal(['Host', 'Content-Length', 'X-Multi', 'x-multi']);
  });

  it('knows keep-alive, close and upgrade', () => {
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').keepAlive).to.equal(false);
    expect(parse('GET / HTTP/1.0\r\n\r\n').keepAlive).to.equal(false);
    expect(parse('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive).to.equal(true);
    const upgrade = parse('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(upgrade.upgrade).to.equal(true);
    expect(upgrade.connectionTokens).to.deep.equal(['keep-alive', 'upgrade']);
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').upgrade).to.equal(false);
  });

  it('accepts chunked and a header value with obs-text and inner spaces', () => {
    const head = parse('PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nX-V: a b\xe9c\r\n\r\n');
    expect(head.chunked).to.equal(true);
    expect(head.contentLength).to.equal(-1);
    expect(head.header('x-v')).to.equal('a b\xe9c');
  });

  describe('rejects request smuggling vectors with 400', () => {
    const vectors: Record<string, string> = {
      'both Content-Length and Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      'duplicate Content-Length': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
      'conflicting Content-Length': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n',
      'Content-Length list': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n',
      'signed Content-Length': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n',
      'empty Content-Length': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n',
      'Transfer-Encoding other than chunked': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n',
      'chunked not alone': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
      'chunked twice': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
      'chunked with a suffix': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n',
      'Transfer-Encoding in HTTP/1.0': 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      'whitespace before the colon': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\n',
      'tab before the colon': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n',
      'obs-fold': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n',
      'bare CR in a value': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n',
      'bare LF in a value': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\n2\r\n\r\n',
      'NUL in a value': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\n\r\n',
      'invalid name character': 'GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n',
      'empty name': 'GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n',
      'missing Host in HTTP/1.1': 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n',
      'two Host fields': 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'space in the target': 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n',
      'lowercase version': 'GET / http/1.1\r\nHost: a\r\n\r\n',
      'HTTP/2 preface': 'PRI * HTTP/2.0\r\n\r\n',
      'two spaces after the method': 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
      'CONNECT': 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n',
    };
    for (const [name, head] of Object.entries(vectors)) {
      it(name, () => {
        expect(rejection(head).status).to.equal(400);
      });
    }
  });

  it('answers too many header fields with 431', () => {
    let head = 'GET / HTTP/1.1\r\nHost: a\r\n';
    for (let i = 0; i < 200; i++) head += `X-${i}: v\r\n`;
    expect(rejection(`${head}\r\n`).status).to.equal(431);
  });

  it('normalises the target: absolute-form to origin-form with its authority as Host', () => {
    const absolute = parse('GET http://Web:80/x/../y?z HTTP/1.1\r\nHost: other\r\n\r\n');
    expect([absolute.target, absolute.path, absolute.authority, absolute.header('host')]).to.deep.equal(['/y?z', '/y', 'Web:80', 'Web:80']);
    const noPath = parse('GET http://web?/public HTTP/1.1\r\nHost: web\r\n\r\n');
    expect([noPath.target, noPath.path]).to.deep.equal(['/?/public', '/']);
    expect(parse('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').path).to.equal('*');
    expect(parse('GET /a/%2e%2E/b HTTP/1.1\r\nHost: a\r\n\r\n').path).to.equal('/b');
  });

  it('knows which upgrades pass: WebSocket only; h2c is declined, others refused', () => {
    const h2c = parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n');
    expect(h2c.upgrade).to.equal(false);
    expect(parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: WebSocket\r\n\r\n').upgrade).to.equal(true);
    expect(parse('GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade).to.equal(false);
    for (const head of [
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: tls/1.2\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket, h2c\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nUpgrade: websocket\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\n',
    ]) {
      expect(rejection(head).status, head).to.equal(400);
    }
  });

  it('shows rules only the fields the endpoint receives: no hop-by-hop ones', () => {
    const head = parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: X-User\r\nX-User: admin\r\nTE: trailers\r\nX-Other: 1\r\n\r\n');
    expect([head.header('x-user'), head.header('te'), head.header('connection'), head.header('x-other')]).to.deep.equal([undefined, undefined, undefined, '1']);
    const websocket = parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(websocket.header('upgrade')).to.equal('websocket');
  });

  it('refuses a Connection option naming an end-to-end or framing field (400)', () => {
    for (const option of ['content-length', 'Content-Length', 'TRANSFER-ENCODING', 'host', 'authorization', 'close, content-length', ' , Host ']) {
      const head = `POST / HTTP/1.1\r\nHost: a\r\nConnection: ${option}\r\nContent-Length: 0\r\n\r\n`;
      expect(rejection(head).message, option).to.match(/^Connection names the end-to-end field/);
    }
    expect(rejection('GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: content-length\r\n\r\n').status).to.equal(400);
    expect(rejection('GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n').message).to.equal('invalid Connection option "a b"');
  });
});

describe('HTTP/1.1 response head parser', () => {
  function parseResponse(head: string) {
    const buffer = Buffer.from(head, 'latin1');
    return parseResponseHead(buffer, buffer.indexOf('\r\n\r\n') + 4);
  }

  it('parses status, reason, framing and keep-alive', () => {
    const head = parseResponse('HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n');
    expect(head.status).to.equal(404);
    expect(head.reason).to.equal('Not Found');
    expect(head.contentLength).to.equal(5);
    expect(head.keepAlive).to.equal(true);
    expect(parseResponse('HTTP/1.1 200\r\n\r\n').reason).to.equal('');
    expect(parseResponse('HTTP/1.0 200 OK\r\n\r\n').keepAlive).to.equal(false);
    expect(parseResponse('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').keepAlive).to.equal(false);
    expect(parseResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').chunked).to.equal(true);
  });

  it('rejects ambiguous responses with 502', () => {
    for (const head of [
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, set-cookie\r\nContent-Length: 1\r\n\r\n',
      'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    ]) {
      expect(() => parseResponse(head), head).to.throw(HeadError).with.property('status', 502);
    }
  });
});
