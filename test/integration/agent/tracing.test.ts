import { expect } from 'chai';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import { endpoint, eventually, freePort, meshConfig, startAgent, type CapturedLog } from './fixtures.js';

// Addresses of this file: 127.160.0.0/16.
const UPSTREAM = '127.160.0.1';
const VIP = '127.160.1.1';
const H2C_VIP = '127.160.1.2';

const TRACE = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
  'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
  'x-b3-spanid': 'e457b5a2e4d86bd1',
  'x-b3-sampled': '1',
};

describe('agent: trace headers', () => {
  let agent: NodeAgent;
  let log: CapturedLog;
  let client: Agent;
  let upstream: Server;
  let h2Upstream: http2.Http2Server;
  let port: number;
  let h2Port: number;
  const received: IncomingHttpHeaders[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, UPSTREAM, resolve));
    h2Upstream = http2.createServer();
    h2Upstream.on('stream', (stream, headers) => {
      received.push(headers as IncomingHttpHeaders);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    await new Promise<void>((resolve) => h2Upstream.listen(0, UPSTREAM, resolve));
    port = await freePort(VIP);
    h2Port = await freePort(H2C_VIP);
    ({ agent, log } = startAgent());
    await agent.start();
    await agent.apply(meshConfig([
      { namespace: 'shop', name: 'web', vip: VIP, ports: [{ port, trafficType: 'http', endpoints: [endpoint(UPSTREAM, (upstream.address() as AddressInfo).port)] }] },
      { namespace: 'shop', name: 'grpc', vip: H2C_VIP, ports: [{ port: h2Port, trafficType: 'http', scheme: 'h2c', endpoints: [endpoint(UPSTREAM, (h2Upstream.address() as AddressInfo).port)] }] },
    ]));
    client = new Agent({ connections: 2 });
  });

  after(async () => {
    await client.destroy();
    await agent.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await new Promise<void>((resolve) => h2Upstream.close(() => resolve()));
  });

  beforeEach(() => {
    received.length = 0;
    log.lines.length = 0;
  });

  async function h2Get(headers: Record<string, string>): Promise<number> {
    const session = http2.connect(`http://${H2C_VIP}:${h2Port}`);
    try {
      return await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/rpc', ...headers });
        stream.on('response', (answer) => resolve(Number(answer[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.end();
      });
    } finally {
      session.close();
    }
  }

  it('HTTP/1.1: passes W3C and B3 headers unchanged, adds x-request-id, logs the trace id', async () => {
    const response = await request(`http://${VIP}:${port}/a`, { dispatcher: client, headers: TRACE });
    await response.body.text();
    expect(received).to.have.length(1);
    const headers = received[0]!;
    for (const [name, value] of Object.entries(TRACE)) expect(headers[name], name).to.equal(value);
    expect(headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(await eventually(() => log.messages('request').length === 1)).to.equal(true);
    expect(log.messages('request')[0]).to.include({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', requestId: headers['x-request-id'] });
  });

  it('HTTP/1.1: keeps the client\'s own x-request-id and logs it', async () => {
    const response = await request(`http://${VIP}:${port}/b`, { dispatcher: client, headers: { 'x-request-id': 'client-id-7', b3: TRACE.b3 } });
    await response.body.text();
    expect(received[0]!['x-request-id']).to.equal('client-id-7');
    expect(await eventually(() => log.messages('request').length === 1)).to.equal(true);
    expect(log.messages('request')[0]).to.include({ requestId: 'client-id-7', traceId: '80f198ee56343ba864fe8b2a57d3eff7' });
  });

  it('h2c: passes trace headers unchanged, adds x-request-id when absent and keeps it when present', async () => {
    expect(await h2Get(TRACE)).to.equal(200);
    expect(await h2Get({ 'x-request-id': 'mine' })).to.equal(200);
    expect(received).to.have.length(2);
    for (const [name, value] of Object.entries(TRACE)) expect(received[0]![name], name).to.equal(value);
    expect(received[0]!['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(received[1]!['x-request-id']).to.equal('mine');
    expect(await eventually(() => log.messages('request').length === 2)).to.equal(true);
    const lines = log.messages('request');
    expect(lines.map((line) => line.traceId).sort()).to.deep.equal(['', '4bf92f3577b34da6a3ce929d0e0e4736']);
  });
});
