/**
 * Bad clients and bad endpoints against a running agent (HTTP, h2c, TCP and UDP listeners):
 * malformed HTTP, garbage bytes, abrupt resets on either side, slow clients. The agent must
 * answer or close, keep serving everyone else, and never crash (an uncaught error fails mocha).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import { echoUntilEnd, endpoint, eventually, freePort, getJson, meshConfig, startAgent, tcpServer, type TestServer } from './fixtures.js';

// Addresses of this file: 127.89.0.0/16.
const UPSTREAM = '127.89.0.1';
const HTTP_VIP = '127.89.1.1';
const H2C_VIP = '127.89.1.2';
const TCP_VIP = '127.89.1.3';
const UDP_VIP = '127.89.1.4';

/**
 * Writes `data` on a new connection, then waits, half-closes or resets; collects what comes back
 * until the connection closes (bounded: 5 s).
 */
function exchange(address: string, port: number, data: string | Buffer, then: 'wait' | 'end' | 'reset' = 'wait'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(data, () => {
      if (then === 'reset') socket.resetAndDestroy();
      else if (then === 'end') socket.end();
    });
  });
}

function opened(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('agent: bad clients and bad endpoints never crash it', () => {
  let agent: NodeAgent;
  let client: Agent;
  let httpServer: Server;
  let httpPort: number;
  let h2Server: http2.Http2Server;
  let h2Port: number;
  let echo: TestServer;
  let udpEcho: ReturnType<typeof createSocket>;
  const ports = { http: 0, h2c: 0, tcp: 0, udp: 0 };
  const parked: ServerResponse[] = [];

  before(async () => {
    httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      if (req.url === '/park') {
        parked.push(res);
      } else if (req.url === '/reset-mid-body') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial');
        setTimeout(() => res.socket?.resetAndDestroy(), 20);
      } else if (req.url === '/reset-before-head') {
        req.socket.resetAndDestroy();
      } else if (req.url === '/garbage-head') {
        req.socket.end('NOT HTTP AT ALL\r\n\r\n');
      } else {
        req.on('end', () => res.end('ok'));
      }
    });
    await new Promise<void>((resolve) => httpServer.listen(0, UPSTREAM, resolve));
    httpPort = (httpServer.address() as AddressInfo).port;
    h2Server = http2.createServer();
    h2Server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end('h2 ok');
    });
    await new Promise<void>((resolve) => h2Server.listen(0, UPSTREAM, resolve));
    h2Port = (h2Server.address() as AddressInfo).port;
    echo = await tcpServer(UPSTREAM, echoUntilEnd);
    udpEcho = createSocket('udp4');
    udpEcho.on('message', (message, from) => udpEcho.send(message, from.port, from.address));
    await new Promise<void>((resolve) => udpEcho.bind(0, UPSTREAM, resolve));

    ports.http = await freePort(HTTP_VIP);
    ports.h2c = await freePort(H2C_VIP);
    ports.tcp = await freePort(TCP_VIP);
    ports.udp = await freePort(UDP_VIP, 'UDP');
    ({ agent } = startAgent({
      accessLog: { enabled: false, sampleRate: 0 },
      httpLimits: { headersTimeoutMs: 300, maxHeaderBytes: 4096 },
      drainTimeoutMs: 1_000,
    }));
    await agent.start();
    await agent.apply(meshConfig([
      { namespace: 'abuse', name: 'http', vip: HTTP_VIP, ports: [{ port: ports.http, trafficType: 'http', endpoints: [endpoint(UPSTREAM, httpPort)] }] },
      { namespace: 'abuse', name: 'grpc', vip: H2C_VIP, ports: [{ port: ports.h2c, trafficType: 'http', scheme: 'h2c', endpoints: [endpoint(UPSTREAM, h2Port)] }] },
      { namespace: 'abuse', name: 'tcp', vip: TCP_VIP, ports: [{ port: ports.tcp, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
      { namespace: 'abuse', name: 'udp', vip: UDP_VIP, ports: [{ port: ports.udp, protocol: 'UDP', endpoints: [endpoint(UPSTREAM, udpEcho.address().port)] }] },
    ]));
  });

  beforeEach(() => {
    client = new Agent({ connections: 2 });
  });

  afterEach(async () => {
    await client.destroy();
  });

  after(async () => {
    for (const response of parked.splice(0)) response.end();
    await agent.stop();
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    await new Promise<void>((resolve) => h2Server.close(() => resolve()));
    await echo.close();
    await new Promise<void>((resolve) => udpEcho.close(() => resolve()));
  });

  async function httpGet(path = '/'): Promise<{ status: number; body: string }> {
    const response = await request(`http://${HTTP_VIP}:${ports.http}${path}`, { dispatcher: client });
    return { status: response.statusCode, body: await response.body.text() };
  }

  /** Connections the agent holds open on a listener (from /config). */
  async function listenerActive(id: string): Promise<number> {
    const { body } = await getJson(agent.adminPort, '/config');
    const listeners = body.listeners as Array<{ listener: string; active: number }>;
    return listeners.find((listener) => listener.listener === id)?.active ?? -1;
  }

  /** Every listener still serves, and the agent is healthy. */
  async function everythingServes(): Promise<void> {
    expect(await httpGet()).to.deep.equal({ status: 200, body: 'ok' });
    const session = http2.connect(`http://${H2C_VIP}:${ports.h2c}`);
    const h2Body = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/' });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => { body += chunk; });
      stream.on('end', () => resolve(body));
      stream.on('error', reject);
    });
    session.close();
    expect(h2Body).to.equal('h2 ok');
    expect(await exchange(TCP_VIP, ports.tcp, 'hi', 'end')).to.equal('hibye');
    const udp = createSocket('udp4');
    const reply = new Promise<string>((resolve) => udp.once('message', (message) => resolve(message.toString())));
    udp.send('ping', ports.udp, UDP_VIP);
    expect(await reply).to.equal('ping');
    udp.close();
    expect((await getJson(agent.adminPort, '/healthz')).status).to.equal(200);
  }

  it('answers malformed HTTP/1.1 with a 4xx and closes', async () => {
    const cases: Array<[string, RegExp]> = [
      ['HELLO\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/9.9\r\nHost: a\r\n\r\n', /^HTTP\/1\.1 (400|505) /],
      ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', /^HTTP\/1\.1 400 /],
      ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /^HTTP\/1\.1 400 /],
      ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/1.1\nHost: a\n\n', /^HTTP\/1\.1 400 /],
      [`GET / HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(5000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    ];
    for (const [bytes, expected] of cases) expect(await exchange(HTTP_VIP, ports.http, bytes), JSON.stringify(bytes)).to.match(expected);
    await everythingServes();
  });

  it('survives garbage bytes and resets on every listener', async () => {
    for (let i = 0; i < 5; i++) {
      const garbage = randomBytes(2048);
      await exchange(HTTP_VIP, ports.http, garbage);
      await exchange(HTTP_VIP, ports.http, garbage, 'reset');
      await exchange(H2C_VIP, ports.h2c, garbage);
      await exchange(H2C_VIP, ports.h2c, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), garbage]));
      await exchange(H2C_VIP, ports.h2c, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      // TCP is opaque: garbage is echoed; a reset must only end that connection.
      await exchange(TCP_VIP, ports.tcp, garbage, 'reset');
    }
    const udp = createSocket('udp4');
    for (const size of [0, 1, 1500, 60_000]) udp.send(randomBytes(size), ports.udp, UDP_VIP);
    await new Promise((resolve) => setTimeout(resolve, 50));
    udp.close();
    await everythingServes();
  });

  it('survives clients that reset mid-request and mid-response, and endpoints that reset or speak garbage', async () => {
    // Client resets in the middle of its body, and while its request waits at the endpoint.
    await exchange(HTTP_VIP, ports.http, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nonly-a-bit', 'reset');
    const waiting = await opened(HTTP_VIP, ports.http);
    waiting.on('error', () => undefined);
    waiting.write('GET /park HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await eventually(() => parked.length === 1)).to.equal(true);
    waiting.resetAndDestroy();
    await eventually(() => parked[0]?.destroyed === true || parked[0]?.socket === null);
    parked.shift()?.end();

    // The endpoint resets mid-body: the client's connection is cut (the status was already sent).
    const cut = await exchange(HTTP_VIP, ports.http, 'GET /reset-mid-body HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(cut).to.match(/^HTTP\/1\.1 200 /);
    // The endpoint resets before answering, or answers garbage: 502.
    expect(await exchange(HTTP_VIP, ports.http, 'POST /reset-before-head HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'))
      .to.match(/^HTTP\/1\.1 502 /);
    expect(await exchange(HTTP_VIP, ports.http, 'GET /garbage-head HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'))
      .to.match(/^HTTP\/1\.1 502 /);
    await everythingServes();
  });

  it('does not let slow clients hold the listener: others are served, the slow ones are closed', async () => {
    const slow = await Promise.all(Array.from({ length: 20 }, () => opened(HTTP_VIP, ports.http)));
    // Half of them read what the agent sends; the others never read and never close.
    slow.forEach((socket, index) => {
      socket.on('error', () => undefined);
      if (index % 2 === 0) socket.resume();
    });
    // Half a head each, then a header line now and then: never a complete head.
    for (const socket of slow) socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const drip = setInterval(() => { for (const socket of slow) if (socket.writable) socket.write('X: 1\r\n'); }, 50);
    const silent = await opened(HTTP_VIP, ports.http);
    // h2c: nothing at all, half a preface, a preface without SETTINGS.
    const h2Slow = await Promise.all([0, 1, 2].map(() => opened(H2C_VIP, ports.h2c)));
    h2Slow[1]?.write('PRI * HTTP/2.0\r\n');
    h2Slow[2]?.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    for (const socket of h2Slow) socket.on('error', () => undefined);
    try {
      for (let i = 0; i < 5; i++) expect(await httpGet()).to.deep.equal({ status: 200, body: 'ok' });
      // Its kept-alive connection would count too.
      await client.close();
      client = new Agent({ connections: 2 });
      // Bounded: 400 × 20 ms; the head timeout plus the close linger take about 2.3 s.
      expect(await eventually(async () => (await listenerActive(`${HTTP_VIP}:${ports.http}/TCP`)) === 0)).to.equal(true);
      expect(await eventually(async () => (await listenerActive(`${H2C_VIP}:${ports.h2c}/TCP`)) === 0)).to.equal(true);
    } finally {
      clearInterval(drip);
      for (const socket of [...slow, silent, ...h2Slow]) socket.destroy();
    }
    await everythingServes();
  });

});
