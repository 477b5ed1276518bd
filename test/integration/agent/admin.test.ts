import { expect } from 'chai';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import {
  echoUntilEnd, endpoint, eventually, freePort, getJson, meshConfig, metricValue, startAgent, tcpServer,
  type ServiceSpec, type TestServer,
} from './fixtures.js';
import { tcpExchange } from '../../helpers/tcp.js';

// Addresses of this file: 127.83.0.0/16.
const UPSTREAM = '127.83.0.1';
const VIP = '127.83.1.1';
const OTHER_VIP = '127.83.1.2';

function roundTrip(port: number, address = VIP): Promise<string> {
  return tcpExchange(address, port, 'x');
}

describe('agent: admin server', () => {
  let agent: NodeAgent;
  let echo: TestServer;
  let port: number;
  let otherPort: number;

  function services(): ServiceSpec[] {
    return [
      { namespace: 'shop', name: 'cart', vip: VIP, ports: [{ port, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
      { namespace: 'shop', name: 'web', vip: OTHER_VIP, ports: [{ port: otherPort, endpoints: [endpoint(UPSTREAM, echo.port)] }] },
    ];
  }

  beforeEach(async () => {
    echo = await tcpServer(UPSTREAM, echoUntilEnd);
    port = await freePort(VIP);
    otherPort = await freePort(OTHER_VIP);
    ({ agent } = startAgent());
    await agent.start();
  });

  afterEach(async () => {
    await agent.stop();
    await echo.close();
  });

  it('is healthy at once and ready only after the first apply', async () => {
    expect((await getJson(agent.adminPort, '/healthz')).status).to.equal(200);
    const before = await getJson(agent.adminPort, '/readyz');
    expect(before.status).to.equal(503);
    expect(before.body).to.include({ ready: false });
    expect((await getJson(agent.adminPort, '/config')).status).to.equal(503);
    expect(agent.generation).to.equal(0);

    await agent.apply(meshConfig(services()));
    const after = await getJson(agent.adminPort, '/readyz');
    expect(after.status).to.equal(200);
    expect(after.body).to.include({ ready: true, generation: 1, listeners: 2, problems: 0, provider: null });
  });

  it('shows the provider status without ever becoming unready again', async () => {
    await agent.apply(meshConfig(services()));
    agent.setProviderStatus({ healthy: false, message: 'watch of services failed: 500' });
    const readyz = await getJson(agent.adminPort, '/readyz');
    expect(readyz.status).to.equal(200);
    expect(readyz.body.provider).to.deep.equal({ healthy: false, message: 'watch of services failed: 500' });
    expect(await metricValue(agent.adminPort, 'plexus_provider_healthy')).to.equal(0);
    agent.setProviderStatus({ healthy: true, message: 'watching' });
    expect(await metricValue(agent.adminPort, 'plexus_provider_healthy')).to.equal(1);
  });

  it('serves the applied config, its generation and every problem at /config', async () => {
    const base = meshConfig(services());
    const config: MeshConfig = {
      ...base,
      problems: [{ kind: 'Service', namespace: 'shop', name: 'web', message: 'timeout: "soon" is not a duration', severity: 'error' }],
    };
    await agent.apply(base);
    const report = await agent.apply(config);
    expect(report).to.include({ generation: 2, problems: 1 });
    expect(report.kept).to.have.length(2);
    const { status, body } = await getJson(agent.adminPort, '/config');
    expect(status).to.equal(200);
    expect(body).to.include({ generation: 2, acl: false });
    expect(Date.parse(body.appliedAt as string)).to.not.be.NaN;
    expect(body.config).to.deep.equal(JSON.parse(JSON.stringify(config)));
    expect(body.problems).to.deep.equal(config.problems);
    expect(await metricValue(agent.adminPort, 'plexus_config_generation')).to.equal(2);
    expect(await metricValue(agent.adminPort, 'plexus_config_problems', { severity: 'error' })).to.equal(1);
    expect(await metricValue(agent.adminPort, 'plexus_listeners', { traffic_type: 'tcp' })).to.equal(2);
  });

  it('answers 404 for anything else', async () => {
    expect((await getJson(agent.adminPort, '/nothing-here')).status).to.equal(404);
  });

  it('exposes process metrics and drops the series of a Service removed by a reload', async () => {
    await agent.apply(meshConfig(services()));
    expect(await roundTrip(port)).to.equal('xbye');
    expect(await roundTrip(otherPort, OTHER_VIP)).to.equal('xbye');
    const cart = { destination_service: 'cart' };
    const web = { destination_service: 'web' };
    expect(await eventually(async () => (await metricValue(agent.adminPort, 'plexus_tcp_connections_total')) === 2)).to.equal(true);
    expect(await metricValue(agent.adminPort, 'process_cpu_seconds_total')).to.be.greaterThan(0);

    await agent.apply(meshConfig(services().slice(1)));
    expect(await metricValue(agent.adminPort, 'plexus_tcp_connections_total', cart)).to.equal(0);
    expect(await metricValue(agent.adminPort, 'plexus_tcp_bytes_total', cart)).to.equal(0);
    expect(await metricValue(agent.adminPort, 'plexus_tcp_connections_total', web)).to.equal(1);
  });
});
