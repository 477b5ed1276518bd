/**
 * The admin port's two sides: /metrics, /healthz, /readyz answer anyone who reaches the port;
 * /config (the debug side) answers only connections from loopback, as `kubectl port-forward`
 * makes them, and 403 from any other address (another pod, the API server's pod proxy).
 */
import { expect } from 'chai';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackAddress } from '../../../src/node-agent/admin/admin-server.js';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import { meshConfig, startAgent } from './fixtures.js';

/**
 * An address of this host outside 127.0.0.0/8 (the "pod IP"): the host's own, or the one
 * test/helpers/mocha-isolated.ts gives a private test network namespace; undefined when none.
 */
function hostAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const info of addresses ?? []) if (info.family === 'IPv4' && !isLoopbackAddress(info.address)) return info.address;
  }
  return undefined;
}

/** GET on `host:port` from `localAddress`: the status and the body. */
function get(host: string, port: number, path: string, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, localAddress, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('agent: admin endpoints, public and loopback-only', () => {
  let agent: NodeAgent;

  beforeEach(async () => {
    // As in a pod: the admin port on every address, so probes and Prometheus reach it.
    ({ agent } = startAgent({ adminAddress: '0.0.0.0' }));
    await agent.start();
    await agent.apply(meshConfig([]));
  });

  afterEach(async () => {
    await agent.stop();
  });

  it('serves /config on loopback', async () => {
    const reply = await get('127.0.0.1', agent.adminPort, '/config', '127.0.0.1');
    expect(reply.status).to.equal(200);
    expect(JSON.parse(reply.body)).to.have.property('config');
  });

  it('refuses /config to a non-loopback address with 403, and still serves /metrics, /healthz and /readyz there', async function () {
    const address = hostAddress();
    if (address === undefined) this.skip();
    const denied = await get(address!, agent.adminPort, '/config', address!);
    expect(denied.status).to.equal(403);
    expect(denied.body).to.not.contain('"config"');
    expect(JSON.parse(denied.body)).to.deep.equal({
      error: '/config answers only on loopback: it shows every Service, pod IP, ServiceAccount and access rule',
      hint: `kubectl -n <mesh namespace> port-forward pod/<agent pod> ${agent.adminPort}, then curl http://127.0.0.1:${agent.adminPort}/config`,
    });
    // Any other path too: an endpoint is public only when it is listed as such.
    expect((await get(address!, agent.adminPort, '/debug/anything', address!)).status).to.equal(403);
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      expect((await get(address!, agent.adminPort, path, address!)).status, path).to.equal(200);
    }
    const readyz = JSON.parse((await get(address!, agent.adminPort, '/readyz', address!)).body) as Record<string, unknown>;
    expect(readyz).to.include({ ready: true, problems: 0 });
    expect(readyz['problemCounts']).to.deep.equal({ error: 0, warning: 0 });
  });

  it('tells loopback addresses apart', () => {
    for (const address of ['127.0.0.1', '127.83.4.5', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).to.equal(true);
    for (const address of ['10.0.0.7', '192.0.2.2', '::ffff:10.0.0.7', 'fe80::1', '::', undefined]) expect(isLoopbackAddress(address), String(address)).to.equal(false);
  });
});

describe('agent: /config with the mesh\'s tap token (the dashboard through the pod proxy)', () => {
  let agent: NodeAgent;
  let tokenDir: string;

  beforeEach(async () => {
    tokenDir = mkdtempSync(join(tmpdir(), 'plexus-admin-token-'));
    writeFileSync(join(tokenDir, 'token'), 'observer-token\n');
    ({ agent } = startAgent({ adminAddress: '0.0.0.0', tapTokenFile: join(tokenDir, 'token') }));
    await agent.start();
    await agent.apply(meshConfig([]));
  });

  afterEach(async () => {
    await agent.stop();
    rmSync(tokenDir, { recursive: true, force: true });
  });

  it('serves /config to a non-loopback caller with the token, and refuses a wrong or missing one', async function () {
    const address = hostAddress();
    if (address === undefined) this.skip();
    const served = await get(address!, agent.adminPort, '/config', address!, { 'x-plexus-tap-token': 'observer-token' });
    expect(served.status).to.equal(200);
    expect(JSON.parse(served.body)).to.have.property('config');
    const attempts: Array<Record<string, string>> = [{}, { 'x-plexus-tap-token': 'guess' }, { 'x-plexus-tap-token': 'observer-token-and-more' }];
    for (const headers of attempts) {
      const denied = await get(address!, agent.adminPort, '/config', address!, headers);
      expect(denied.status, JSON.stringify(headers)).to.equal(403);
      expect(denied.body).to.not.contain('"config"');
    }
    // The token opens the debug endpoints only: an unknown path stays refused.
    expect((await get(address!, agent.adminPort, '/debug/anything', address!, { 'x-plexus-tap-token': 'observer-token' })).status).to.equal(403);
  });
});
