import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import {
  echoUntilEnd, endpoint, eventually, freePort, getJson, meshConfig, metricValue, startAgent, tcpServer,
  type CapturedLog, type ServiceSpec, type TestServer,
} from './fixtures.js';
import { tcpExchange } from '../../helpers/tcp.js';

// Addresses of this file: 127.81.0.0/16.
const UPSTREAM = '127.81.0.1';
const VIP = '127.81.1.1';
const OTHER_VIP = '127.81.1.2';
const CLIENT = '127.81.2.1';
const STRANGER = '127.81.2.2';

/** Sends `chunks`, half-closes, and resolves with everything received until the server's FIN. */
function exchange(address: string, port: number, chunks: readonly string[], localAddress = CLIENT): Promise<string> {
  return tcpExchange(address, port, chunks, localAddress);
}

/** Resolves with how the connection ended: bytes received before the agent closed it. */
function closedBy(address: string, port: number, localAddress: string): Promise<{ received: number }> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: address, port, localAddress });
    let received = 0;
    socket.on('data', (data: Buffer) => (received += data.length));
    socket.on('connect', () => socket.write('hello'));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received }));
  });
}

describe('agent: TCP proxy', () => {
  let agent: NodeAgent;
  let log: CapturedLog;
  let echo: TestServer;
  let port: number;

  beforeEach(async () => {
    echo = await tcpServer(UPSTREAM, echoUntilEnd);
    port = await freePort(VIP);
    ({ agent, log } = startAgent());
    await agent.start();
  });

  afterEach(async () => {
    await agent.stop();
    await echo.close();
  });

  function echoService(endpoints = [endpoint(UPSTREAM, echo.port)], extra: Partial<ServiceSpec> = {}): ServiceSpec {
    return { namespace: 'shop', name: 'echo', vip: VIP, ports: [{ port, endpoints }], ...extra };
  }

  it('pipes bytes both ways and respects half-close (client ends, server still replies, then ends)', async () => {
    await agent.apply(meshConfig([echoService()]));
    const received = await exchange(VIP, port, ['hello ', 'world']);
    expect(received).to.equal('hello worldbye');
  });

  it('counts connections and bytes in /metrics, and logs one access line per connection', async () => {
    await agent.apply(meshConfig([echoService()]));
    const connections = 5;
    for (let i = 0; i < connections; i++) expect(await exchange(VIP, port, ['0123456789'])).to.equal('0123456789bye');
    const labels = { destination_namespace: 'shop', destination_service: 'echo' };
    // The record is written when both sockets have closed, just after the client saw its end.
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_tcp_connections_total', labels)) === connections)).to.equal(true);
    expect(await metricValue(agent.adminPort, 'plexus_tcp_connections_total', { ...labels, outcome: 'closed' })).to.equal(connections);
    expect(await metricValue(agent.adminPort, 'plexus_tcp_bytes_total', { ...labels, direction: 'in' })).to.equal(10 * connections);
    expect(await metricValue(agent.adminPort, 'plexus_tcp_bytes_total', { ...labels, direction: 'out' })).to.equal(13 * connections);
    const lines = log.messages('connection');
    expect(lines).to.have.length(connections);
    expect(lines[0]).to.include({
      protocol: 'tcp', destinationNamespace: 'shop', destinationService: 'echo', outcome: 'closed',
      sourceIp: CLIENT, endpoint: `${UPSTREAM}:${echo.port}`, bytesIn: 10, bytesOut: 13,
    });
  });

  it('retries the connect on another endpoint when one refuses', async () => {
    const deadPort = await freePort(UPSTREAM);
    await agent.apply(meshConfig([echoService([endpoint(UPSTREAM, deadPort), endpoint(UPSTREAM, echo.port)])]));
    for (let i = 0; i < 4; i++) expect(await exchange(VIP, port, ['ping'])).to.equal('pingbye');
  });

  it('closes the connection when no endpoint accepts', async () => {
    const deadPort = await freePort(UPSTREAM);
    await agent.apply(meshConfig([echoService([endpoint(UPSTREAM, deadPort)])]));
    expect(await closedBy(VIP, port, CLIENT)).to.deep.equal({ received: 0 });
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_tcp_connections_total', { outcome: 'error' })) === 1)).to.equal(true);
  });

  it('reports a port it cannot bind as a Listener problem and still serves the others', async () => {
    const squatter = await tcpServer(OTHER_VIP, () => undefined);
    try {
      const report = await agent.apply(meshConfig([
        echoService(),
        { namespace: 'shop', name: 'blocked', vip: OTHER_VIP, ports: [{ port: squatter.port, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
      ]));
      expect(report.failed.map((failure) => failure.listener)).to.deep.equal([`${OTHER_VIP}:${squatter.port}/TCP`]);
      expect(report.failed[0]?.error).to.contain('EADDRINUSE');
      expect(report.added).to.deep.equal([`${VIP}:${port}/TCP`]);
      expect(await exchange(VIP, port, ['still'])).to.equal('stillbye');
      const { body } = await getJson(agent.adminPort, '/config');
      const problems = body.problems as Array<Record<string, unknown>>;
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include({ kind: 'Listener', namespace: 'shop', name: 'blocked', severity: 'error' });
      expect(await metricValue(agent.adminPort, 'plexus_config_problems', { severity: 'error' })).to.equal(1);
    } finally {
      await squatter.close();
    }
  });

  describe('with ACL on', () => {
    beforeEach(async () => {
      await agent.stop();
      ({ agent, log } = startAgent({ acl: true }));
      await agent.start();
      const access = [{ trafficTarget: 'shop/echo-clients', sources: ['shop/client'], http: null }];
      await agent.apply(meshConfig(
        [{ namespace: 'shop', name: 'echo', vip: VIP, ports: [{ port, endpoints: [endpoint(UPSTREAM, echo.port)], access }] }],
        [{ ip: CLIENT, namespace: 'shop', pod: 'client-0', serviceAccount: 'client' }],
      ));
    });

    it('serves a granted identity', async () => {
      expect(await exchange(VIP, port, ['granted'])).to.equal('grantedbye');
    });

    it('closes an unknown source at accept, before a byte reaches the service', async () => {
      let upstreamConnections = 0;
      echo.server.on('connection', () => upstreamConnections++);
      expect(await closedBy(VIP, port, STRANGER)).to.deep.equal({ received: 0 });
      expect(upstreamConnections).to.equal(0);
      expect(await metricValue(agent.adminPort, 'plexus_tcp_connections_total', { outcome: 'denied', source_namespace: '' })).to.equal(1);
      expect(log.messages('connection')[0]).to.include({ outcome: 'denied', sourceIp: STRANGER, sourceIdentity: null });
    });
  });
});
