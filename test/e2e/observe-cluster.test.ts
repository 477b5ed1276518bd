/**
 * `plexus stat`, `tap` and `dashboard` (the real binary) against the fake API server's cluster:
 * the agents are found as pods of the mesh namespace and read through the API server's pod
 * proxy; taps carry the tap token read from Secret plexus-tap; numbers add up over agents.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Agent, request } from 'undici';
import type { NodeAgent } from '../../src/node-agent/agent.js';
import { kubeconfigFor, writeKubeconfig } from '../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../fake-apiserver/server.js';
import { endpoint, meshConfig, startAgent } from '../integration/agent/fixtures.js';
import { startDashboard } from './helpers/dashboard.js';
import { runPlexus, type RunResult } from './helpers/plexus.js';

// Addresses of this file: 127.163.0.0/16. Each agent is a "pod" with its own IP, admin port 9901.
const AGENT_IPS = ['127.163.0.1', '127.163.0.2'] as const;
const VIPS = ['127.163.1.1', '127.163.1.2'] as const;
const UPSTREAM = '127.163.0.10';
const FRONT = '127.163.2.1';
const STRANGER = '127.163.2.9';
const PORT = 8080;
const TOKEN = 'tap-token-for-tests';
const AGENT_LABELS = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };

describe('plexus stat / tap / dashboard in a cluster (fake API server, pod proxy)', function () {
  this.timeout(120_000);
  let server: FakeApiServer;
  let core: CoreV1Api;
  let dir: string;
  let kubeconfig: string;
  let upstream: Server;
  const agents: NodeAgent[] = [];
  const clients = [new Agent({ connections: 2, localAddress: FRONT }), new Agent({ connections: 2, localAddress: STRANGER })];
  let sending = false;
  let sent = 0;

  /** Requests through both agents (front via the first, a stranger via the second) until stopped; bounded. */
  async function traffic(): Promise<void> {
    sending = true;
    for (let i = 0; sending && i < 20_000; i++) {
      const which = i % 2;
      const response = await request(`http://${VIPS[which]}:${PORT}/item/${i % 3}`, { dispatcher: clients[which]! });
      await response.body.text();
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function whileTraffic<T>(run: () => Promise<T>): Promise<T> {
    const loop = traffic();
    try {
      return await run();
    } finally {
      sending = false;
      await loop;
    }
  }

  const cluster = (args: readonly string[]): Promise<RunResult> => runPlexus([...args, '--kubeconfig', kubeconfig], 90_000);

  before(async () => {
    server = new FakeApiServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'plexus-observe-'));
    kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig'));
    core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    await core.createNamespacedSecret({ namespace: 'plexus', body: { metadata: { name: 'plexus-tap' }, data: { token: Buffer.from(TOKEN).toString('base64') } } });
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    upstream = createServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, UPSTREAM, resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    for (const [index, ip] of AGENT_IPS.entries()) {
      const { agent } = startAgent({ adminAddress: ip, adminPort: 9901, acl: true, tapTokenFile: join(dir, 'token') });
      await agent.start();
      await agent.apply(meshConfig(
        [{ namespace: 'shop', name: 'web', vip: VIPS[index]!, ports: [{ port: PORT, trafficType: 'http', endpoints: [endpoint(UPSTREAM, upstreamPort)], access: [{ sources: ['shop/front'], http: null, trafficTarget: 'shop/front-to-web' }] }] }],
        [{ ip: FRONT, namespace: 'shop', pod: 'front-1', serviceAccount: 'front' }],
      ));
      agents.push(agent);
      const name = `plexus-agent-${index}`;
      const created = await core.createNamespacedPod({ namespace: 'plexus', body: { metadata: { name, labels: AGENT_LABELS }, spec: { nodeName: `node-${index}`, containers: [{ name: 'agent', image: 'plexus' }] } } });
      await core.replaceNamespacedPodStatus({ namespace: 'plexus', name, body: { ...created, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } } });
    }
  });

  after(async () => {
    sending = false;
    for (const agent of agents) await agent.stop();
    for (const client of clients) await client.destroy();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stat adds up every agent, per caller: the known caller succeeds, the stranger is denied', async () => {
    const result = await whileTraffic(() => cluster(['stat', 'shop/web', '--window', '3', '-o', 'json']));
    expect(result.code, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout) as { agents: number; services: Array<{ key: string; requests: number }>; sources: Array<{ key: string; requests: number; successRate: number }> };
    expect(report.agents).to.equal(2);
    expect(report.services[0]!.key).to.equal('shop/web');
    expect(report.services[0]!.requests).to.be.greaterThan(0).and.at.most(sent);
    expect(report.sources.find((row) => row.key === 'shop/front → shop/web')?.successRate).to.equal(1);
    expect(report.sources.find((row) => row.key === 'unknown → shop/web')?.successRate).to.equal(0);
  });

  it('tap reads both agents through the pod proxy, with the token from Secret plexus-tap', async () => {
    const result = await whileTraffic(() => cluster(['tap', 'shop/web', '--max', '30', '--duration', '60']));
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).to.have.length(30);
    expect(lines.some((line) => / shop\/front → shop\/web:8080 .* GET \/item\/\d 200 /.test(line))).to.equal(true);
    expect(lines.some((line) => / unknown \(127\.163\.2\.9\) → shop\/web:8080 GET \/item\/\d 403 \(forbidden\) .* FAILED$/.test(line))).to.equal(true);
  });

  it('tap says why when the token is wrong, and when the Secret is missing', async () => {
    await core.replaceNamespacedSecret({ namespace: 'plexus', name: 'plexus-tap', body: { metadata: { name: 'plexus-tap' }, data: { token: Buffer.from('guess').toString('base64') } } });
    const wrong = await cluster(['tap', 'shop/web', '--duration', '20']);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.match(/warning: agent plexus-agent-0 refused the tap \(403\): wrong tap token/);
    expect(wrong.stderr).to.match(/plexus: no agent could be tapped/);
    await core.deleteNamespacedSecret({ namespace: 'plexus', name: 'plexus-tap' });
    const missing = await cluster(['tap', 'shop/web', '--duration', '20']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/no Secret plexus\/plexus-tap: run plexus prepare to create the mesh's tap token/);
  });

  it('the dashboard serves the graph of both agents on loopback', async () => {
    // The test before deleted the tap token Secret: the routes panel needs it.
    await core.createNamespacedSecret({ namespace: 'plexus', body: { metadata: { name: 'plexus-tap' }, data: { token: Buffer.from(TOKEN).toString('base64') } } });
    const { child, url: started } = startDashboard(['--kubeconfig', kubeconfig, '--duration', '60']);
    try {
      const url = await started;
      const edges = await whileTraffic(async () => {
        for (let attempt = 0; attempt < 300; attempt++) {
          const graph = await (await fetch(`${url}api/graph`)).json() as { agents: number; edges: Array<{ from: string; to: string; rps: number; successRate: number }> };
          if (graph.agents === 2 && graph.edges.length === 2 && graph.edges.every((edge) => edge.rps > 0)) return graph.edges;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error('the graph never showed both edges with traffic');
      });
      expect(edges.map((edge) => `${edge.from} → ${edge.to} ${edge.successRate}`).sort()).to.deep.equal(['shop/front → shop/web 1', 'unknown → shop/web 0']);
      // The routes panel reads an agent's /config through the pod proxy, with the tap token.
      const service = await (await fetch(`${url}api/service?name=shop/web`)).json() as { routes: Array<{ port: number }> | null; routesProblem: string | null };
      expect(service.routesProblem).to.equal(null);
      expect(service.routes?.map((route) => route.port)).to.deep.equal([PORT]);
      const foreign = await request(`${url}api/graph`, { headers: { host: 'evil.example' } });
      await foreign.body.text();
      expect(foreign.statusCode).to.equal(421);
    } finally {
      child.kill('SIGINT');
    }
  });
});
