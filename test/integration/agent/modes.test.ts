import { expect } from 'chai';
import { connect } from 'node:net';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import {
  echoUntilEnd, endpoint, eventually, freePort, getJson, meshConfig, metricValue, startAgent, tcpServer,
  type CapturedLog, type TestServer,
} from './fixtures.js';
import { tcpExchange } from '../../helpers/tcp.js';

// Addresses of this file: 127.86.0.0/16.
const UPSTREAM = '127.86.0.1';
const LISTEN = '127.86.1.1';

function roundTrip(port: number, payload: string): Promise<string> {
  return tcpExchange(LISTEN, port, payload);
}

/** Resolves once the agent closed the connection, with the bytes it sent before. */
function refusedAtAccept(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: LISTEN, port });
    let received = 0;
    socket.on('data', (data: Buffer) => (received += data.length));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
}

describe('agent: listener modes and limits', () => {
  let agent: NodeAgent;
  let echo: TestServer;

  beforeEach(async () => {
    echo = await tcpServer(UPSTREAM, echoUntilEnd);
  });

  afterEach(async () => {
    await agent.stop();
    await echo.close();
  });

  it('binds the listen address at each allocated listener port in Kubernetes mode, and skips port 0', async () => {
    ({ agent } = startAgent({ mode: 'kubernetes', listenAddress: LISTEN }));
    await agent.start();
    const listenerPort = await freePort(LISTEN);
    const report = await agent.apply(meshConfig([
      { namespace: 'shop', name: 'cart', vip: null, ports: [{ port: 80, listenerPort, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
      { namespace: 'shop', name: 'unallocated', vip: null, ports: [{ port: 80, listenerPort: 0, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
    ]));
    expect(report.added).to.deep.equal([`${LISTEN}:${listenerPort}/TCP`]);
    expect(report.failed).to.deep.equal([]);
    expect(await roundTrip(listenerPort, 'k8s')).to.equal('k8sbye');
    const { body } = await getJson(agent.adminPort, '/config');
    const listeners = body.listeners as Array<Record<string, unknown>>;
    expect(listeners).to.have.length(1);
    expect(listeners[0]).to.include({ listener: `${LISTEN}:${listenerPort}/TCP`, kind: 'tcp', port: 'shop/cart:80/TCP' });
  });

  it('reports two Service ports that ask for the same listener, and serves the first', async () => {
    ({ agent } = startAgent({ mode: 'kubernetes', listenAddress: LISTEN }));
    await agent.start();
    const listenerPort = await freePort(LISTEN);
    const report = await agent.apply(meshConfig([
      { namespace: 'shop', name: 'cart', vip: null, ports: [{ port: 80, listenerPort, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
      { namespace: 'shop', name: 'copy', vip: null, ports: [{ port: 80, listenerPort, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
    ]));
    expect(report.added).to.deep.equal([`${LISTEN}:${listenerPort}/TCP`]);
    expect(report.problems).to.equal(1);
    const { body } = await getJson(agent.adminPort, '/config');
    const problems = body.problems as Array<Record<string, unknown>>;
    expect(problems[0]).to.include({ kind: 'Listener', namespace: 'shop', name: 'copy' });
    expect(problems[0]?.message).to.contain('already used by Service shop/cart');
    expect(await roundTrip(listenerPort, 'first')).to.equal('firstbye');
  });

  it('counts every connection in /metrics but logs none when the access log samples nothing', async () => {
    let log: CapturedLog;
    ({ agent, log } = startAgent({ mode: 'kubernetes', listenAddress: LISTEN, accessLog: { enabled: true, sampleRate: 0 } }));
    await agent.start();
    const listenerPort = await freePort(LISTEN);
    await agent.apply(meshConfig([
      { namespace: 'shop', name: 'cart', vip: null, ports: [{ port: 80, listenerPort, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
    ]));
    for (let i = 0; i < 3; i++) expect(await roundTrip(listenerPort, 'n')).to.equal('nbye');
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_tcp_connections_total')) === 3)).to.equal(true);
    expect(log.messages('connection')).to.deep.equal([]);
    expect(log.messages('config applied')).to.have.length(1);
  });

  it('skips Services without a VIP in local mode', async () => {
    ({ agent } = startAgent({ mode: 'local' }));
    await agent.start();
    const report = await agent.apply(meshConfig([
      { namespace: 'shop', name: 'cart', vip: null, ports: [{ port: 80, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
    ]));
    expect(report).to.include({ generation: 1 });
    expect(report.added).to.deep.equal([]);
  });

  it('refuses connections beyond maxConnections at accept', async () => {
    ({ agent } = startAgent({ mode: 'kubernetes', listenAddress: LISTEN, maxConnections: 1 }));
    await agent.start();
    const listenerPort = await freePort(LISTEN);
    await agent.apply(meshConfig([
      { namespace: 'shop', name: 'cart', vip: null, ports: [{ port: 80, listenerPort, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
    ]));
    const held = connect({ host: LISTEN, port: listenerPort });
    try {
      await new Promise((resolve) => held.once('data', resolve).write('hold'));
      expect(await refusedAtAccept(listenerPort)).to.equal(0);
    } finally {
      held.destroy();
    }
  });
});
