import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import type { Endpoint } from '../../../src/routing/mesh-config.js';
import { endpoint, eventually, freePort, meshConfig, metricValue, startAgent, type CapturedLog, type ServiceSpec } from './fixtures.js';
import { connectError } from '../../helpers/tcp.js';
import { rotatingSplitConfigs, runUnderReloads } from './load.js';

// Addresses of this file: 127.85.0.0/16.
const UPSTREAM = '127.85.0.1';
const VIP = '127.85.1.1';
const OTHER_VIP = '127.85.1.2';

interface HttpUpstream {
  readonly server: Server;
  readonly port: number;
  /** Requests to `/slow` wait here until the test releases them. */
  readonly parked: ServerResponse[];
  readonly arrivals: string[];
}

async function httpUpstream(name: string): Promise<HttpUpstream> {
  const parked: ServerResponse[] = [];
  const arrivals: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrivals.push(req.url ?? '');
    req.resume();
    if (req.url === '/slow') parked.push(res);
    else res.end(`${name} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, UPSTREAM, resolve));
  return { server, port: (server.address() as AddressInfo).port, parked, arrivals };
}

function closeUpstream(upstream: HttpUpstream): Promise<void> {
  return new Promise((resolve) => {
    upstream.server.close(() => resolve());
    upstream.server.closeAllConnections();
  });
}

describe('agent: HTTP listeners', () => {
  let agent: NodeAgent;
  let log: CapturedLog;
  let client: Agent;
  const upstreams: HttpUpstream[] = [];
  let port: number;
  let otherPort: number;

  async function upstream(name: string): Promise<HttpUpstream> {
    const started = await httpUpstream(name);
    upstreams.push(started);
    return started;
  }

  function web(endpoints: readonly Endpoint[]): ServiceSpec {
    return { namespace: 'shop', name: 'web', vip: VIP, ports: [{ port, trafficType: 'http', endpoints }] };
  }

  function api(endpoints: readonly Endpoint[]): ServiceSpec {
    return { namespace: 'shop', name: 'api', vip: OTHER_VIP, ports: [{ port: otherPort, trafficType: 'http', endpoints }] };
  }

  async function get(address: string, listenerPort: number, path: string): Promise<{ status: number; body: string }> {
    const response = await request(`http://${address}:${listenerPort}${path}`, { dispatcher: client });
    return { status: response.statusCode, body: await response.body.text() };
  }

  beforeEach(async () => {
    port = await freePort(VIP);
    otherPort = await freePort(OTHER_VIP);
    client = new Agent({ connections: 8 });
    ({ agent, log } = startAgent({ drainTimeoutMs: 10_000 }));
    await agent.start();
  });

  afterEach(async () => {
    await client.destroy();
    for (const parked of upstreams.flatMap((started) => started.parked)) parked.end();
    await agent.stop();
    await Promise.all(upstreams.splice(0).map(closeUpstream));
  });

  it('counts every request in /metrics and logs one access line each', async () => {
    const backend = await upstream('a');
    await agent.apply(meshConfig([web([endpoint(UPSTREAM, backend.port)])]));
    const sent = 25;
    for (let i = 0; i < sent; i++) expect(await get(VIP, port, `/item/${i}`)).to.deep.equal({ status: 200, body: `a /item/${i}` });
    const labels = { destination_namespace: 'shop', destination_service: 'web', status_code: '200' };
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_requests_total', labels)) === sent)).to.equal(true);
    expect(await metricValue(agent.adminPort, 'plexus_request_duration_seconds_count', labels)).to.equal(sent);
    const text = await (await fetch(`http://127.0.0.1:${agent.adminPort}/metrics`)).text();
    expect(text).to.not.contain('/item/');
    expect(log.messages('request')).to.have.length(sent);
    expect(log.messages('request')[0]).to.include({ destinationService: 'web', status: 200, method: 'GET' });
  });

  it('lets a removed listener finish an in-flight request while it refuses new connections', async () => {
    const backend = await upstream('a');
    await agent.apply(meshConfig([web([endpoint(UPSTREAM, backend.port)]), api([endpoint(UPSTREAM, backend.port)])]));
    const inFlight = get(VIP, port, '/slow');
    expect(await eventually(() => backend.parked.length === 1)).to.equal(true);

    const report = await agent.apply(meshConfig([api([endpoint(UPSTREAM, backend.port)])]));
    expect(report.removed).to.deep.equal([`${VIP}:${port}/TCP`]);
    expect(await connectError(VIP, port)).to.equal('ECONNREFUSED');
    expect(await get(OTHER_VIP, otherPort, '/still')).to.deep.equal({ status: 200, body: 'a /still' });

    backend.parked.shift()?.end('finished');
    expect(await inFlight).to.deep.equal({ status: 200, body: 'finished' });
  });

  it('rebinds a listener whose traffic type or scheme changed', async () => {
    const backend = await upstream('a');
    const endpoints = [endpoint(UPSTREAM, backend.port)];
    const asTcp: ServiceSpec = { ...web(endpoints), ports: [{ port, trafficType: 'tcp', endpoints }] };
    await agent.apply(meshConfig([asTcp]));
    expect(await get(VIP, port, '/piped')).to.deep.equal({ status: 200, body: 'a /piped' });
    expect(await metricValue(agent.adminPort, 'plexus_requests_total')).to.equal(0);

    const toHttp = await agent.apply(meshConfig([web(endpoints)]));
    expect(toHttp.replaced).to.deep.equal([`${VIP}:${port}/TCP`]);
    // The kept-alive connection still drains through the old TCP pipe: call on a new one.
    await client.close();
    client = new Agent({ connections: 8 });
    expect(await get(VIP, port, '/proxied')).to.deep.equal({ status: 200, body: 'a /proxied' });
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_requests_total')) === 1)).to.equal(true);

    const asH2c: ServiceSpec = { ...web(endpoints), ports: [{ port, trafficType: 'http', scheme: 'h2c', endpoints }] };
    const toH2c = await agent.apply(meshConfig([asH2c]));
    expect(toH2c.replaced).to.deep.equal([`${VIP}:${port}/TCP`]);
    expect(await metricValue(agent.adminPort, 'plexus_listeners', { traffic_type: 'h2c' })).to.equal(1);
    expect(await metricValue(agent.adminPort, 'plexus_listeners', { traffic_type: 'http' })).to.equal(0);
  });

  it('fails no request across 20 reloads (weights, endpoints added and removed) under steady load', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map(upstream));
    const endpoints = backends.map((backend) => endpoint(UPSTREAM, backend.port));
    const configs = rotatingSplitConfigs(web, endpoints, 20);
    await agent.apply(meshConfig([web(endpoints)]));
    const result = await runUnderReloads({
      total: 400, concurrency: 4, deadlineMs: 120_000, configs,
      apply: (config) => agent.apply(config),
      send: async () => {
        const response = await get(VIP, port, '/load');
        if (response.status !== 200) throw new Error(`status ${response.status}: ${response.body}`);
      },
    });
    expect(result.failures).to.deep.equal([]);
    expect(result.completed).to.equal(400);
    expect(result.reloads).to.equal(20);
    expect(await metricValue(agent.adminPort, 'plexus_requests_total', { status_code: '200' })).to.equal(400);
  });
});
