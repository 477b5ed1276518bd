import { expect } from 'chai';
import * as http from 'node:http';
import { type UpstreamServer, meshConfig, request, startProxy, startUpstream, waitFor } from './harness.js';

describe('HTTP/1.1 proxy: config reload', () => {
  const servers: UpstreamServer[] = [];

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it('finishes in-flight requests on the config they started with; new requests use the new one', async () => {
    const held: Array<() => void> = [];
    const old = await startUpstream((req, res) => {
      req.resume();
      held.push(() => res.end('old'));
    });
    const fresh = await startUpstream((req, res) => {
      req.resume();
      res.end('new');
    });
    servers.push(old, fresh);
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: old.port }] }));
    const agent = new http.Agent({ keepAlive: true });
    try {
      const inFlight = request(proxy.port, { agent, path: '/first' });
      await waitFor(() => held.length > 0);
      proxy.reload(meshConfig({ endpoints: [{ port: fresh.port }] }));
      const after = await request(proxy.port, { agent, path: '/second' });
      expect(after.body.toString()).to.equal('new');
      held[0]?.();
      const first = await inFlight;
      expect(first.status).to.equal(200);
      expect(first.body.toString()).to.equal('old');
      expect(proxy.records.map((r) => [r.path, r.endpoint])).to.deep.equal([
        ['/second', `127.0.0.1:${fresh.port}`], ['/first', `127.0.0.1:${old.port}`],
      ]);
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });

  it('loses no request while endpoints are swapped under load', async () => {
    const upstreams = [];
    for (let i = 0; i < 3; i++) {
      upstreams.push(await startUpstream((req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      }));
    }
    servers.push(...upstreams);
    const ports = upstreams.map((u) => u.port);
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: ports[0] as number }] }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const total = 400;
      let sent = 0;
      const failures: number[] = [];
      const worker = async (): Promise<void> => {
        while (sent < total) {
          sent++;
          const reply = await request(proxy.port, { agent, method: sent % 3 === 0 ? 'POST' : 'GET', body: sent % 3 === 0 ? 'x' : undefined });
          if (reply.status !== 200) failures.push(reply.status);
          // Every 25 requests: a new config with a different endpoint set.
          if (sent % 25 === 0) {
            const chosen = ports.filter((_, index) => (sent / 25 + index) % 3 !== 0);
            proxy.reload(meshConfig({ endpoints: chosen.map((port) => ({ port })) }));
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(failures).to.deep.equal([]);
      expect(proxy.records.length).to.equal(sent);
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });
});
