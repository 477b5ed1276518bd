/**
 * The destination side of an HTTP tunnel stream (http-gate.ts, behind DestinationPolicy.deliver):
 * a stream carries many requests over one pod connection, each authorized on its own; malformed
 * framing, a cut and a close end the stream without harming the agent. Real HTTP on loopback: a
 * TCP connection stands for the tunnel stream the TunnelServer hands to `deliver`.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { pino } from 'pino';
import { DEFAULT_PATH_POLICY } from '../../../src/node-agent/http/request-target.js';
import { DestinationPolicy } from '../../../src/secure/destination.js';
import type { SecureMetrics } from '../../../src/secure/metrics.js';
import { backend, backends, endpoint, meshConfig, meshPort, meshService } from '../../unit/runtime/fixtures.js';

const HOST = '127.0.0.1';

/** Reads whole HTTP/1.1 responses (Content-Length framed) from a socket, in order. */
class ResponseReader {
  #buffer = '';
  #ended = false;
  #waiting: (() => void) | null = null;

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#waiting?.();
    });
    const over = (): void => {
      this.#ended = true;
      this.#waiting?.();
    };
    socket.on('end', over);
    socket.on('close', over);
    socket.on('error', () => undefined);
  }

  /** The next response (head and body), or null when the stream ended first. */
  async next(): Promise<string | null> {
    for (;;) {
      const headEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headEnd !== -1) {
        const length = /\r\ncontent-length: (\d+)/i.exec(this.#buffer.slice(0, headEnd));
        const total = headEnd + 4 + Number(length?.[1] ?? 0);
        if (this.#buffer.length >= total) {
          const response = this.#buffer.slice(0, total);
          this.#buffer = this.#buffer.slice(total);
          return response;
        }
      }
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
      this.#waiting = null;
    }
  }

  /** Resolves once the other side has ended the stream (or it closed). */
  async closed(): Promise<void> {
    while (!this.#ended) {
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
      this.#waiting = null;
    }
  }
}

describe('secure/DestinationPolicy: HTTP requests on a tunnel stream', () => {
  let pod: HttpServer;
  let tunnel: Server;
  let policy: DestinationPolicy;
  const seen: string[] = [];
  const podSockets = new Set<Socket>();
  let podConnections = 0;
  const decisions: boolean[] = [];
  const metrics: SecureMetrics = {
    certificateIssuance() {},
    certificateExpiry() {},
    authorization: (_source, _destination, allowed) => decisions.push(allowed),
    tunnelConnection() {},
  };
  const opened: Socket[] = [];

  before(async () => {
    pod = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/public/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only part');
        setImmediate(() => req.socket.destroy());
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => res.end(`pod saw ${req.method} ${req.url}${body === '' ? '' : ` ${body}`}`));
    });
    pod.on('connection', (socket: Socket) => {
      podConnections++;
      podSockets.add(socket);
      socket.once('close', () => podSockets.delete(socket));
    });
    await new Promise<void>((resolve) => pod.listen(0, HOST, resolve));
    const podPort = (pod.address() as AddressInfo).port;
    policy = new DestinationPolicy({ nodeName: 'node-a', acl: true, paths: DEFAULT_PATH_POLICY, logger: pino({ level: 'silent' }), metrics });
    policy.setConfig(meshConfig([meshService('shop/web', [meshPort({
      port: 80, destination: backends([backend('shop/web', 1, [endpoint(HOST, podPort)])]),
      access: [{ trafficTarget: 'shop/public', sources: ['shop/front'], http: [{ name: 'public', pathRegex: '/public/.*', methods: ['GET', 'POST'], headers: [] }] }],
    })])]));
    const deliver = policy.deliver('shop/front', { host: HOST, port: podPort, service: 'shop/web:80/TCP' });
    if (deliver === null) throw new Error('an HTTP port must be delivered to the per-request authorizer');
    tunnel = createServer({ allowHalfOpen: true }, (socket) => deliver(socket));
    await new Promise<void>((resolve) => tunnel.listen(0, HOST, resolve));
  });

  beforeEach(() => {
    seen.length = 0;
    decisions.length = 0;
    podConnections = 0;
  });

  afterEach(() => {
    for (const socket of opened.splice(0)) socket.destroy();
  });

  after(async () => {
    policy.close();
    await new Promise<void>((resolve) => tunnel.close(() => resolve()));
    pod.closeAllConnections();
    await new Promise<void>((resolve) => pod.close(() => resolve()));
  });

  async function openStream(): Promise<{ socket: Socket; reader: ResponseReader }> {
    const socket = connect({ port: (tunnel.address() as AddressInfo).port, host: HOST, allowHalfOpen: true });
    opened.push(socket);
    const reader = new ResponseReader(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, reader };
  }

  /** Resolves once the pod has no connection left open. */
  async function podConnectionsClosed(): Promise<void> {
    await Promise.all([...podSockets].map((socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())))));
  }

  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: web.shop\r\n\r\n`;

  it('carries many requests on one stream over one pod connection, authorizing each on its own', async () => {
    const { socket, reader } = await openStream();
    socket.write(get('/public/a'));
    expect(await reader.next()).to.match(/^HTTP\/1\.1 200 /).and.match(/pod saw GET \/public\/a$/);
    socket.write(get('/public/b'));
    expect(await reader.next()).to.match(/^HTTP\/1\.1 200 /).and.match(/pod saw GET \/public\/b$/);
    // The same stream, another request: refused on its own, answered, and the stream ends.
    socket.write(get('/admin'));
    expect(await reader.next()).to.match(/^HTTP\/1\.1 403 /).and.contain('no TrafficTarget grants shop/front GET /admin');
    await reader.closed();
    expect(seen).to.deep.equal(['GET /public/a', 'GET /public/b']);
    expect(podConnections).to.equal(1);
    expect(decisions).to.deep.equal([true, true, false]);
  });

  it('takes pipelined requests one at a time, bodies included (chunked and sized)', async () => {
    const { socket, reader } = await openStream();
    socket.write(`POST /public/c HTTP/1.1\r\nhost: web.shop\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${
      'POST /public/s HTTP/1.1\r\nhost: web.shop\r\ncontent-length: 3\r\n\r\nabc'}${get('/public//x/../y')}`);
    expect(await reader.next()).to.match(/pod saw POST \/public\/c hello$/);
    expect(await reader.next()).to.match(/pod saw POST \/public\/s abc$/);
    expect(await reader.next()).to.match(/pod saw GET \/public\/y$/);
    expect(podConnections).to.equal(1);
  });

  it('answers malformed framing with 400 and ends the stream; the pod never sees it', async () => {
    for (const head of [
      'POST /public/x HTTP/1.1\r\nhost: web.shop\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\nabc',
      'GET /public/x HTTP/1.1\r\nhost: web.shop\r\nhost: other\r\n\r\n',
      'NOT A REQUEST\r\n\r\n',
    ]) {
      const { socket, reader } = await openStream();
      socket.write(head);
      expect(await reader.next(), head).to.match(/^HTTP\/1\.1 400 /);
      await reader.closed();
    }
    expect(seen).to.deep.equal([]);
  });

  it('a chunked body with broken framing resets the stream and the pod connection', async () => {
    const { socket, reader } = await openStream();
    socket.write('POST /public/x HTTP/1.1\r\nhost: web.shop\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    await reader.closed();
    await podConnectionsClosed();
    expect(podSockets.size).to.equal(0);
  });

  it('a stream cut in the middle of a request body closes its pod connection', async () => {
    const { socket } = await openStream();
    socket.write('POST /public/x HTTP/1.1\r\nhost: web.shop\r\ncontent-length: 100\r\n\r\nten bytes.');
    await new Promise<void>((resolve) => pod.once('request', () => resolve()));
    socket.destroy();
    await podConnectionsClosed();
    expect(podSockets.size).to.equal(0);
    // The agent goes on serving.
    const next = await openStream();
    next.socket.write(get('/public/after'));
    expect(await next.reader.next()).to.match(/pod saw GET \/public\/after$/);
  });

  it('a response the pod cuts short resets the stream', async () => {
    const { socket, reader } = await openStream();
    socket.write(get('/public/cut'));
    expect(await reader.next()).to.equal(null);
    expect(socket.destroyed || socket.readableEnded).to.equal(true);
  });

  it('the caller ending an idle stream ends its pod connection', async () => {
    const { socket, reader } = await openStream();
    socket.write(get('/public/a'));
    expect(await reader.next()).to.match(/^HTTP\/1\.1 200 /);
    expect(podSockets.size).to.equal(1);
    socket.end();
    await reader.closed();
    await podConnectionsClosed();
    expect(podSockets.size).to.equal(0);
  });

  it('a pod that closes its keep-alive connection ends the stream', async () => {
    const { socket, reader } = await openStream();
    socket.write(get('/public/a'));
    expect(await reader.next()).to.match(/^HTTP\/1\.1 200 /);
    for (const podSocket of podSockets) podSocket.end();
    await reader.closed();
  });

  it('answers 502 when the pod is gone, and ends the stream', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, HOST, resolve));
    const port = (gone.address() as AddressInfo).port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const elsewhere = new DestinationPolicy({ nodeName: 'node-a', acl: false, paths: DEFAULT_PATH_POLICY, logger: pino({ level: 'silent' }), metrics });
    elsewhere.setConfig(meshConfig([meshService('shop/gone', [meshPort({ port: 80, destination: backends([backend('shop/gone', 1, [endpoint(HOST, port)])]) })])]));
    const deliver = elsewhere.deliver('shop/front', { host: HOST, port, service: 'shop/gone:80/TCP' });
    const stand = createServer({ allowHalfOpen: true }, (socket) => deliver?.(socket));
    await new Promise<void>((resolve) => stand.listen(0, HOST, resolve));
    const socket = connect({ port: (stand.address() as AddressInfo).port, host: HOST, allowHalfOpen: true });
    opened.push(socket);
    const reader = new ResponseReader(socket);
    socket.write(get('/anything'));
    expect(await reader.next()).to.match(/^HTTP\/1\.1 502 /).and.contain(`pod ${HOST}:${port}`);
    await reader.closed();
    elsewhere.close();
    await new Promise<void>((resolve) => stand.close(() => resolve()));
  });
});
