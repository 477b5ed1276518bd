import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import type { Endpoint } from '../../../src/routing/mesh-config.js';
import {
  echoUntilEnd, endpoint, freePort, meshConfig, startAgent, tcpServer, type ServiceSpec, type TestServer,
} from './fixtures.js';
import { connectError, tcpExchange } from '../../helpers/tcp.js';
import { rotatingSplitConfigs, runUnderReloads } from './load.js';

// Addresses of this file: 127.84.0.0/16.
const UPSTREAM = '127.84.0.1';
const VIP = '127.84.1.1';
const OTHER_VIP = '127.84.1.2';

/** A connection kept open across reloads: `say` sends a line and resolves with its echo. */
async function openConnection(address: string, port: number): Promise<{ socket: Socket; say(text: string): Promise<string>; finish(): Promise<string> }> {
  const socket = connect({ host: address, port, allowHalfOpen: true });
  socket.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    say: (text) => new Promise((resolve) => {
      socket.once('data', (data: string) => resolve(data));
      socket.write(text);
    }),
    finish: () => new Promise((resolve) => {
      let rest = '';
      socket.on('data', (data: string) => (rest += data));
      socket.once('end', () => resolve(rest));
      socket.end();
    }),
  };
}

/** Echo server that prefixes its answers with a name, so a test sees which endpoint answered. */
function namedEcho(name: string) {
  return tcpServer(UPSTREAM, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('data', (data) => socket.write(`${name}:${data.toString('utf8')}`));
    socket.on('end', () => socket.end());
  });
}

describe('agent: hot reload', () => {
  let agent: NodeAgent;
  const servers: TestServer[] = [];
  let port: number;
  let otherPort: number;

  async function server(start: Promise<TestServer>): Promise<TestServer> {
    const started = await start;
    servers.push(started);
    return started;
  }

  function cart(endpoints: readonly Endpoint[]): ServiceSpec {
    return { namespace: 'shop', name: 'cart', vip: VIP, ports: [{ port, endpoints }] };
  }

  function web(endpoints: readonly Endpoint[]): ServiceSpec {
    return { namespace: 'shop', name: 'web', vip: OTHER_VIP, ports: [{ port: otherPort, endpoints }] };
  }

  beforeEach(async () => {
    port = await freePort(VIP);
    otherPort = await freePort(OTHER_VIP);
    ({ agent } = startAgent({ drainTimeoutMs: 10_000 }));
    await agent.start();
  });

  afterEach(async () => {
    await agent.stop();
    await Promise.all(servers.splice(0).map((started) => started.close()));
  });

  it('leaves an unchanged listener alone: open connections go on, new ones follow the new endpoints', async () => {
    const first = await server(namedEcho('a'));
    const second = await server(namedEcho('b'));
    await agent.apply(meshConfig([cart([endpoint(UPSTREAM, first.port)])]));
    const open = await openConnection(VIP, port);
    expect(await open.say('1')).to.equal('a:1');

    const report = await agent.apply(meshConfig([cart([endpoint(UPSTREAM, second.port)]), web([endpoint(UPSTREAM, first.port)])]));
    expect(report.kept).to.deep.equal([`${VIP}:${port}/TCP`]);
    expect(report.added).to.deep.equal([`${OTHER_VIP}:${otherPort}/TCP`]);
    expect(report.generation).to.equal(2);
    expect(await open.say('2')).to.equal('a:2');
    expect(await tcpExchange(VIP, port, '3')).to.equal('b:3');
    expect(await tcpExchange(OTHER_VIP, otherPort, '4')).to.equal('a:4');
    expect(await open.finish()).to.equal('');
  });

  it('lets a removed listener finish what is in flight while it refuses new connections', async () => {
    const echo = await server(tcpServer(UPSTREAM, echoUntilEnd));
    await agent.apply(meshConfig([cart([endpoint(UPSTREAM, echo.port)]), web([endpoint(UPSTREAM, echo.port)])]));
    const open = await openConnection(VIP, port);
    expect(await open.say('before')).to.equal('before');

    const report = await agent.apply(meshConfig([web([endpoint(UPSTREAM, echo.port)])]));
    expect(report.removed).to.deep.equal([`${VIP}:${port}/TCP`]);
    expect(report.kept).to.deep.equal([`${OTHER_VIP}:${otherPort}/TCP`]);
    expect(await connectError(VIP, port)).to.equal('ECONNREFUSED');
    expect(await open.say('after')).to.equal('after');
    expect(await open.finish()).to.equal('bye');
    expect(await tcpExchange(OTHER_VIP, otherPort, 'x')).to.equal('xbye');
  });

  it('cuts what a removed listener still holds after the drain timeout, on both sides', async () => {
    await agent.stop();
    ({ agent } = startAgent({ drainTimeoutMs: 100 }));
    await agent.start();
    let upstreamEnded!: () => void;
    const upstreamSide = new Promise<void>((resolve) => (upstreamEnded = resolve));
    const held = await server(tcpServer(UPSTREAM, (socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (data) => socket.write(data));
      socket.once('end', () => upstreamEnded());
    }));
    await agent.apply(meshConfig([cart([endpoint(UPSTREAM, held.port)])]));
    const open = await openConnection(VIP, port);
    expect(await open.say('idle')).to.equal('idle');
    // Both test sockets are half-open capable: the agent's FIN shows as `end`.
    const clientSide = new Promise<void>((resolve) => open.socket.once('end', () => resolve()));
    open.socket.on('error', () => undefined);
    await agent.apply(meshConfig([]));
    await Promise.all([clientSide, upstreamSide]);
  });

  it('rebinds an address and port that another Service takes over', async () => {
    const echo = await server(tcpServer(UPSTREAM, echoUntilEnd));
    await agent.apply(meshConfig([cart([endpoint(UPSTREAM, echo.port)])]));
    const report = await agent.apply(meshConfig([{ ...cart([endpoint(UPSTREAM, echo.port)]), name: 'basket' }]));
    expect(report.replaced).to.deep.equal([`${VIP}:${port}/TCP`]);
    expect(report.added).to.deep.equal([]);
    expect(report.failed).to.deep.equal([]);
    expect(await tcpExchange(VIP, port, 'y')).to.equal('ybye');
  });

  it('fails no connection across 20 reloads (endpoints added and removed, weights changed) under load', async () => {
    const echoes = await Promise.all([0, 1, 2].map(() => server(tcpServer(UPSTREAM, echoUntilEnd))));
    const endpoints = echoes.map((echo) => endpoint(UPSTREAM, echo.port));
    const configs = rotatingSplitConfigs(cart, endpoints, 20);
    await agent.apply(meshConfig([cart(endpoints)]));
    let sent = 0;
    const result = await runUnderReloads({
      total: 400, concurrency: 4, deadlineMs: 120_000, configs,
      apply: (config) => agent.apply(config),
      send: async () => {
        const payload = `m${sent++}`;
        const answer = await tcpExchange(VIP, port, payload);
        if (answer !== `${payload}bye`) throw new Error(`unexpected answer ${answer}`);
      },
    });
    expect(result.failures).to.deep.equal([]);
    expect(result.completed).to.equal(400);
    expect(result.reloads).to.equal(20);
    expect(agent.generation).to.equal(21);
  });
});
