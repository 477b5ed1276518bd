import { expect } from 'chai';
import { parseRequestHead } from '../../../src/node-agent/http/http1/request-head.js';
import { DEFAULT_PATH_POLICY } from '../../../src/node-agent/http/request-target.js';
import { parseResponseHead } from '../../../src/node-agent/http/http1/response-head.js';
import { serializeRequestHead, serializeResponseHead } from '../../../src/node-agent/http/http1/serialize.js';

function head(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

describe('HTTP/1.1 head serialization', () => {
  it('writes the request head for the endpoint: hop-by-hop out, X-Forwarded-* set, the rest as received', () => {
    const buffer = head('GET /x?y HTTP/1.1\r\nHost: web\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n' +
      'TE: trailers\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nAccept: */*\r\n\r\n');
    const text = serializeRequestHead(parseRequestHead(buffer, buffer.length, DEFAULT_PATH_POLICY), '10.0.0.7');
    expect(text).to.equal('GET /x?y HTTP/1.1\r\nHost: web\r\nAccept: */*\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.7\r\nX-Forwarded-Proto: http\r\n\r\n');
  });

  it('keeps Upgrade on upgrade requests and framing fields always', () => {
    const upgrade = head('GET /ws HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(serializeRequestHead(parseRequestHead(upgrade, upgrade.length, DEFAULT_PATH_POLICY), '10.0.0.7'))
      .to.equal('GET /ws HTTP/1.1\r\nHost: web\r\nUpgrade: websocket\r\nConnection: upgrade\r\nX-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\n\r\n');
    const chunked = head('POST / HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(serializeRequestHead(parseRequestHead(chunked, chunked.length, DEFAULT_PATH_POLICY), '10.0.0.7')).to.include('Transfer-Encoding: chunked\r\n');
  });

  it('sends the normalised origin-form target, with an absolute-form target\'s authority as Host', () => {
    const absolute = head('GET http://web:8080/a/./b/../c?q=/.. HTTP/1.1\r\nHost: evil\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: x\r\n\r\n');
    expect(serializeRequestHead(parseRequestHead(absolute, absolute.length, DEFAULT_PATH_POLICY), '10.0.0.7'))
      .to.equal('GET /a/c?q=/.. HTTP/1.1\r\nHost: web:8080\r\nX-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\n\r\n');
    const old = head('GET http://web/ HTTP/1.0\r\n\r\n');
    expect(serializeRequestHead(parseRequestHead(old, old.length, DEFAULT_PATH_POLICY), '10.0.0.7'))
      .to.equal('GET / HTTP/1.0\r\nHost: web\r\nX-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\n\r\n');
  });

  it('forwards HTTP/1.0 requests as HTTP/1.0', () => {
    const buffer = head('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect(serializeRequestHead(parseRequestHead(buffer, buffer.length, DEFAULT_PATH_POLICY), '10.0.0.7'))
      .to.equal('GET / HTTP/1.0\r\nX-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\n\r\n');
  });

  it('writes the response head for the client, closing when asked', () => {
    const buffer = head('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-App: 1\r\n\r\n');
    const response = parseResponseHead(buffer, buffer.length);
    expect(serializeResponseHead(response, false, false)).to.equal('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-App: 1\r\n\r\n');
    expect(serializeResponseHead(response, true, false)).to.equal('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-App: 1\r\nConnection: close\r\n\r\n');
  });
});
