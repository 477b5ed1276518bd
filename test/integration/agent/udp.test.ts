import { expect } from 'chai';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import { endpoint, eventually, freePort, meshConfig, metricValue, startAgent, type CapturedLog, type ServiceSpec } from './fixtures.js';

// Addresses of this file: 127.82.0.0/16.
const UPSTREAM = '127.82.0.1';
const VIP = '127.82.1.1';
const CLIENT = '127.82.2.1';
const STRANGER = '127.82.2.2';

interface UdpEcho {
  readonly socket: Socket;
  readonly port: number;
  /** Source ports the echo server has seen, in order (one per agent flow). */
  readonly senders: RemoteInfo[];
}

async function udpEcho(): Promise<UdpEcho> {
  const socket = createSocket('udp4');
  const senders: RemoteInfo[] = [];
  socket.on('message', (message, from) => {
    senders.push(from);
    socket.send(Buffer.concat([Buffer.from('echo:'), message]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, UPSTREAM, resolve));
  return { socket, port: socket.address().port, senders };
}

async function udpClient(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket;
}

/** Sends one datagram and resolves with the first reply (and where it came from). */
function request(client: Socket, port: number, payload: string): Promise<{ text: string; from: RemoteInfo }> {
  return new Promise((resolve) => {
    client.once('message', (message, from) => resolve({ text: message.toString('utf8'), from }));
    client.send(payload, port, VIP);
  });
}

function close(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

describe('agent: UDP relay', () => {
  let agent: NodeAgent;
  let log: CapturedLog;
  let echo: UdpEcho;
  let port: number;
  const clients: Socket[] = [];

  function service(extra: Partial<ServiceSpec> = {}): ServiceSpec {
    return {
      namespace: 'dns', name: 'resolver', vip: VIP,
      ports: [{ port, protocol: 'UDP', endpoints: [endpoint(UPSTREAM, echo.port)] }], ...extra,
    };
  }

  async function client(address = CLIENT): Promise<Socket> {
    const socket = await udpClient(address);
    clients.push(socket);
    return socket;
  }

  beforeEach(async () => {
    echo = await udpEcho();
    port = await freePort(VIP, 'UDP');
  });

  afterEach(async () => {
    await agent.stop();
    await Promise.all(clients.splice(0).map(close));
    await close(echo.socket);
  });

  it('relays datagrams and answers from the address the client called', async () => {
    ({ agent, log } = startAgent());
    await agent.start();
    await agent.apply(meshConfig([service()]));
    const socket = await client();
    for (const payload of ['one', 'two', 'three']) {
      const reply = await request(socket, port, payload);
      expect(reply.text).to.equal(`echo:${payload}`);
      expect(reply.from).to.include({ address: VIP, port });
    }
    // One flow per client address: every datagram used the same upstream socket.
    expect(new Set(echo.senders.map((sender) => sender.port)).size).to.equal(1);
  });

  it('ends an idle flow, records it, and opens a new one for the next datagram', async () => {
    ({ agent, log } = startAgent({ udpIdleTimeoutMs: 300 }));
    await agent.start();
    await agent.apply(meshConfig([service()]));
    const socket = await client();
    expect((await request(socket, port, 'first')).text).to.equal('echo:first');
    const labels = { destination_namespace: 'dns', destination_service: 'resolver', outcome: 'idle-timeout' };
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_udp_flows_total', labels)) === 1)).to.equal(true);
    expect(await metricValue(agent.adminPort, 'plexus_udp_bytes_total', { direction: 'in' })).to.equal(5);
    expect(await metricValue(agent.adminPort, 'plexus_udp_bytes_total', { direction: 'out' })).to.equal(10);
    expect(log.messages('connection')[0]).to.include({ protocol: 'udp', outcome: 'idle-timeout', bytesIn: 5, bytesOut: 10, sourceIp: CLIENT });
    expect((await request(socket, port, 'second')).text).to.equal('echo:second');
    expect(echo.senders).to.have.length(2);
    expect(echo.senders[0]?.port).to.not.equal(echo.senders[1]?.port);
  });

  it('drops the datagrams of a denied source under ACL and records the flow once', async () => {
    ({ agent, log } = startAgent({ acl: true }));
    await agent.start();
    const access = [{ trafficTarget: 'dns/resolver-clients', sources: ['apps/client'], http: null }];
    await agent.apply(meshConfig(
      [service({ ports: [{ port, protocol: 'UDP', endpoints: [endpoint(UPSTREAM, echo.port)], access }] })],
      [{ ip: CLIENT, namespace: 'apps', pod: 'client-0', serviceAccount: 'client' }],
    ));
    const stranger = await client(STRANGER);
    for (let i = 0; i < 3; i++) stranger.send(`denied-${i}`, port, VIP);
    let strangerReplies = 0;
    stranger.on('message', () => strangerReplies++);
    // The agent reads its socket in order: once the granted client's reply is back, the
    // stranger's earlier datagrams have been dropped (or, wrongly, forwarded).
    const granted = await client();
    expect((await request(granted, port, 'granted')).text).to.equal('echo:granted');
    expect(echo.senders).to.have.length(1);
    expect(strangerReplies).to.equal(0);
    expect(await metricValue(agent.adminPort, 'plexus_udp_flows_total', { outcome: 'denied' })).to.equal(1);
    expect(log.messages('connection').filter((line) => line.outcome === 'denied')).to.have.length(1);
  });
});
