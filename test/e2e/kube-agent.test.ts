/**
 * The real `plexus agent` in Kubernetes mode, serving real traffic, against the fake API server
 * (`npm test`; loopback endpoints through its TEST-ONLY switch) and, under `npm run
 * test:cluster`, against the real one (endpoints on the node's address). Checks on the fake's
 * request log, and tests that stop, freeze or cut the server, run on the fake only.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { PLEXUS_ARGV } from '../helpers/paths.js';
import { apiServerKinds, startApiServer, type TestApiServer } from './helpers/api-servers.js';

interface Shadow {
  readonly metadata: { readonly name: string; readonly labels: Record<string, string>; readonly annotations: Record<string, string> };
  readonly spec: { readonly ports: readonly { readonly port: number; readonly targetPort: number }[] };
}

const LEASE_SECONDS = '2';
/**
 * The agents' listen addresses (one per node, as each agent pod has its own IP). Not 127.0.0.1:
 * against the real API server these tests share the host's loopback, where the first shadow
 * port (10000) on 127.0.0.1 may be another program's.
 */
const [AGENT_A, AGENT_B, AGENT_C] = ['127.27.0.1', '127.27.0.4', '127.27.0.5'];

async function backend(name: string, address: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(name));
  server.listen(0, address);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const kind of apiServerKinds()) describe(`kube agent end to end (${kind} API server)`, function () {
  this.timeout(300_000);
  /** Tests that need the fake's hooks. */
  const fakeOnly = kind === 'fake' ? it : it.skip;
  let server: TestApiServer;
  let dir: string;
  let kubeconfig: string;
  const agents: AgentProcess[] = [];
  const backends: Server[] = [];
  let ports: { a: number; b: number };
  let addresses: { a: string; b: string };

  const api = (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => server.request(method, path, body);

  async function create(path: string, body: unknown): Promise<void> {
    const res = await api('POST', path, body);
    if (res.status !== 201) throw new Error(`create ${path}: ${JSON.stringify(res.body)}`);
  }

  function slice(name: string, ip: string, port: number): unknown {
    return {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    };
  }

  async function shadows(): Promise<Shadow[]> {
    const res = await api('GET', '/api/v1/namespaces/plexus/services?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dplexus');
    return (res.body as { items: Shadow[] }).items;
  }

  async function listenerPort(): Promise<number> {
    return until('the shadow Service of shop/web', async () => (await shadows()).find((s) => s.metadata.annotations['plexus.dev/shadow-of-name'] === 'web')?.spec.ports[0]?.targetPort);
  }

  async function answers(port: number, count: number, address = AGENT_A): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const res = await fetch(`http://${address}:${port}/`).catch(() => null);
      if (res) seen.add(`${res.status} ${await res.text()}`);
    }
    return seen;
  }

  /** Each agent stands for one node: its own listen address, as each pod has its own IP. */
  async function startAgent(node: string, listenAddress = AGENT_A): Promise<{ agent: AgentProcess; adminPort: number }> {
    const agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', kubeconfig, '--namespace', 'plexus', '--node-name', node,
      '--listen-address', listenAddress, '--admin-port', '0', '--admin-address', '127.0.0.1',
    ]);
    agents.push(agent);
    const ready = await agent.ready();
    return { agent, adminPort: ready.adminPort };
  }

  async function leaseHolder(): Promise<string | null> {
    const res = await api('GET', '/apis/coordination.k8s.io/v1/namespaces/plexus/leases/plexus-leader');
    return res.status === 200 ? ((res.body as { spec: { holderIdentity?: string | null } }).spec.holderIdentity ?? null) : null;
  }

  before(() => {
    process.env.KUBE_LEASE_DURATION_SECONDS = LEASE_SECONDS;
  });
  after(() => {
    delete process.env.KUBE_LEASE_DURATION_SECONDS;
  });

  beforeEach(async () => {
    server = await startApiServer(kind, { bookmarkIntervalMs: 500 });
    dir = await mkdtemp(join(tmpdir(), 'plexus-kube-'));
    kubeconfig = server.kubeconfigFile(join(dir, 'kubeconfig'));
    await create('/api/v1/namespaces', { metadata: { name: 'plexus' } });
    await create('/api/v1/namespaces', { metadata: { name: 'shop', annotations: { 'plexus.dev/mesh': 'true' } } });
    await create('/api/v1/namespaces/shop/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    addresses = { a: server.endpointAddress('127.0.0.2'), b: server.endpointAddress('127.0.0.3') };
    const a = await backend('web-a', addresses.a);
    const b = await backend('web-b', addresses.b);
    backends.push(a.server, b.server);
    ports = { a: a.port, b: b.port };
    await create('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', slice('web-a', addresses.a, a.port));
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await Promise.all(backends.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves traffic, follows endpoints, and removes the shadow Service with the Service', async () => {
    await create('/api/v1/namespaces/shop/services', { metadata: { name: 'bad', annotations: { 'plexus.dev/retry-attempts': 'many' } }, spec: { ports: [{ port: 80 }] } });
    await startAgent('node-a');
    const port = await listenerPort();
    await until('traffic to web-a', async () => ((await answers(port, 1)).has('200 web-a') ? true : undefined));
    // The leader records the problem as an Event on the offending Service.
    const event = await until('an Event on shop/bad', async () => {
      const list = (await api('GET', '/api/v1/namespaces/shop/events')).body as { items: { involvedObject: { name: string }; message: string; reason: string }[] };
      return list.items.find((e) => e.involvedObject.name === 'bad');
    });
    expect(event.reason).to.equal('PlexusConfigProblem');
    expect(event.message).to.contain('retry-attempts');

    await create('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', slice('web-b', addresses.b, ports.b));
    await until('both endpoints', async () => ((await answers(port, 10)).size === 2 ? true : undefined));

    await api('DELETE', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/web-a');
    await until('only web-b', async () => {
      const seen = await answers(port, 6);
      return seen.size === 1 && seen.has('200 web-b') ? true : undefined;
    });

    await api('DELETE', '/api/v1/namespaces/shop/services/web');
    await until('the shadow Service deleted', async () => ((await shadows()).some((x) => x.metadata.name === 'web--shop') ? undefined : true));
    await until('the listener closed', async () => ((await answers(port, 1)).size === 0 ? true : undefined));
    // Exactly one create and one delete of the shadow Service: nothing leaked or written twice.
    if (server.fake === null) return;
    const shadowWrites = server.fake.writes().filter((w) => w.path.startsWith('/api/v1/namespaces/plexus/services')
      && (w.path.endsWith('/web--shop') || (w.body as { metadata?: { name?: string } } | undefined)?.metadata?.name === 'web--shop'));
    expect(shadowWrites.map((w) => `${w.method} ${w.status}`)).to.deep.equal(['POST 201', 'DELETE 200']);
  });

  it('the leader keeps shadow Services: long names, updates that keep ports, orphans deleted, headless and ExternalName skipped', async () => {
    const longName = `s${'x'.repeat(61)}1`;
    await create('/api/v1/namespaces/shop/services', { metadata: { name: longName }, spec: { selector: { app: 'long' }, ports: [{ name: 'http', port: 8080 }] } });
    await create('/api/v1/namespaces/shop/services', { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } });
    await create('/api/v1/namespaces/shop/services', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.org' } });
    // Left behind by a Service deleted while no agent ran, and a Service Plexus does not own.
    const shadowLabels = (name: string): Record<string, string> => ({ 'app.kubernetes.io/managed-by': 'plexus', 'plexus.dev/shadow-of-namespace': 'shop', 'plexus.dev/shadow-of-name': name });
    await create('/api/v1/namespaces/plexus/services', {
      metadata: { name: 'gone--shop', labels: shadowLabels('gone'), annotations: { 'plexus.dev/shadow-of-namespace': 'shop', 'plexus.dev/shadow-of-name': 'gone' } },
      spec: { selector: { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' }, internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: 14999 }] },
    });
    await create('/api/v1/namespaces/plexus/services', { metadata: { name: 'dashboard' }, spec: { selector: { app: 'dashboard' }, ports: [{ port: 80 }] } });
    await startAgent('node-a');
    const port = await listenerPort();

    const names = async (): Promise<string[]> => (await shadows()).map((x) => x.metadata.name).sort();
    await until('the orphan deleted', async () => ((await names()).includes('gone--shop') ? undefined : true));
    const kept = await shadows();
    const long = kept.find((x) => x.metadata.annotations['plexus.dev/shadow-of-name'] === longName);
    expect(long, 'the shadow of the long-named Service').to.not.equal(undefined);
    expect(long!.metadata.name.length).to.be.at.most(63);
    expect(long!.metadata.labels).to.deep.include(shadowLabels(longName));
    expect(kept.map((x) => x.metadata.annotations['plexus.dev/shadow-of-name']).sort()).to.deep.equal([longName, 'web'].sort());
    const dashboard = await api('GET', '/api/v1/namespaces/plexus/services/dashboard');
    expect(dashboard.status).to.equal(200);

    // A port added to the original: the shadow follows, the existing port keeps its listener.
    const web = (await api('GET', '/api/v1/namespaces/shop/services/web')).body as { metadata: Record<string, unknown>; spec: { ports: unknown[] } };
    const updated = await api('PUT', '/api/v1/namespaces/shop/services/web', { ...web, spec: { ...web.spec, ports: [...web.spec.ports, { name: 'admin', port: 9090, protocol: 'TCP', targetPort: 9090 }] } });
    expect(updated.status).to.equal(200);
    const ports = await until('the shadow of shop/web with two ports', async () => {
      const shadow = (await shadows()).find((x) => x.metadata.name === 'web--shop');
      return shadow && shadow.spec.ports.length === 2 ? shadow.spec.ports : undefined;
    });
    expect(ports.find((p) => p.port === 80)!.targetPort).to.equal(port);
    await until('traffic on the kept port', async () => ((await answers(port, 1)).has('200 web-a') ? true : undefined));
    // Nothing was written to the headless, ExternalName or foreign Services.
    if (server.fake === null) return;
    const touched = server.fake.writes().filter((w) => w.method !== 'GET' && /\/services\/(db|ext|dashboard)$/.test(w.path));
    expect(touched).to.deep.equal([]);
  });

  fakeOnly('converges after broken watches and an API server restart, without moving the port', async () => {
    const fake = server.fake!;
    const { adminPort } = await startAgent('node-a');
    const port = await listenerPort();
    await until('traffic to web-a', async () => ((await answers(port, 1)).has('200 web-a') ? true : undefined));

    fake.breakWatches();
    await create('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', slice('web-b', addresses.b, ports.b));
    await until('both endpoints after a broken watch', async () => ((await answers(port, 10)).size === 2 ? true : undefined));

    await fake.stop();
    // The agent keeps serving the last config while the API server is away, stays ready, and says so.
    expect((await answers(port, 4)).size).to.equal(2);
    const readiness = await until('an unhealthy provider in /readyz', async () => {
      const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      const body = (await res.json()) as { provider: { healthy: boolean; message: string } | null };
      return res.status === 200 && body.provider?.healthy === false ? body.provider : undefined;
    });
    expect(readiness.message).to.contain('serving the last config');
    const providerHealthy = async (): Promise<string | undefined> =>
      (await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text()).match(/^plexus_provider_healthy (\d)$/m)?.[1];
    expect(await providerHealthy()).to.equal('0');
    await fake.start();
    await api('DELETE', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/web-b');
    fake.compact();
    await until('only web-a after the restart', async () => {
      const seen = await answers(port, 6);
      return seen.size === 1 && seen.has('200 web-a') ? true : undefined;
    });
    expect(await listenerPort()).to.equal(port);
    await until('a healthy provider again', async () => {
      const body = (await (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).json()) as { provider: { healthy: boolean } | null };
      return body.provider?.healthy ? true : undefined;
    });
    expect(await providerHealthy()).to.equal('1');
  });

  it('two agents: one leads; kill it and the other takes over; ports never move; nothing written twice', async () => {
    await create('/api/v1/namespaces/shop/services', { metadata: { name: 'bad', annotations: { 'plexus.dev/retry-attempts': 'many' } }, spec: { ports: [{ port: 80 }] } });
    const first = await startAgent('node-a');
    const holder = await until('a leader', async () => (await leaseHolder()) ?? undefined);
    expect(holder.startsWith('node-a/')).to.equal(true);
    const port = await listenerPort();
    await startAgent('node-b', AGENT_B);
    // Every agent serves the port it read from the shadow Service, leader or not.
    await until('traffic through the second agent', async () => ((await answers(port, 1, AGENT_B)).has('200 web-a') ? true : undefined));
    expect(await leaseHolder()).to.equal(holder);

    process.kill(first.agent.pid!, 'SIGKILL');
    await first.agent.exited;
    const next = await until('the second agent to lead', async () => {
      const h = await leaseHolder();
      return h && h.startsWith('node-b/') ? h : undefined;
    });
    expect(next).not.to.equal(holder);
    // The new leader owns the shadow Services: a new Service gets one, the old port stays.
    await create('/api/v1/namespaces/shop/services', { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80 }] } });
    const all = await until('the shadow Service of shop/api', async () => {
      const list = await shadows();
      return list.some((x) => x.metadata.annotations['plexus.dev/shadow-of-name'] === 'api') ? list : undefined;
    });
    expect(await listenerPort()).to.equal(port);
    expect((await answers(port, 1, AGENT_B)).has('200 web-a')).to.equal(true);
    if (server.fake !== null) {
      const writes = server.fake.writes();
      // Each shadow created once, by whichever agent led at the time.
      const creates = writes.filter((w) => w.method === 'POST' && w.path === '/api/v1/namespaces/plexus/services' && w.status === 201);
      expect(creates).to.have.length(all.length);
      // The new leader found the shadow of shop/web and the Event of shop/bad as they should be.
      const applied = writes.filter((w) => w.status < 300);
      expect(applied.filter((w) => w.method === 'PUT' && w.path.startsWith('/api/v1/namespaces/plexus/services/'))).to.deep.equal([]);
      const eventWrites = applied.filter((w) => w.path.startsWith('/api/v1/namespaces/shop/events'));
      expect(eventWrites.map((w) => w.method)).to.deep.equal(['POST']);
      // Not even attempted twice: the new leader listed the Events instead of re-creating them.
      expect(writes.filter((w) => w.path.startsWith('/api/v1/namespaces/shop/events') && w.status >= 300)).to.deep.equal([]);
    }

    // A leader stopped with SIGTERM releases the Lease: the next agent leads at once.
    const third = await startAgent('node-c', AGENT_C);
    expect(await leaseHolder()).to.equal(next);
    const second = agents.find((a) => a !== first.agent && a !== third.agent)!;
    expect(await second.stop()).to.equal(0);
    const releases = server.fake?.writes().filter((w) => w.method === 'PUT' && w.path.endsWith('/leases/plexus-leader') && w.status === 200
      && ((w.body as { spec: { holderIdentity?: string | null } }).spec.holderIdentity ?? null) === null);
    if (releases !== undefined) expect(releases).to.have.length(1);
    await until('the third agent to lead', async () => ((await leaseHolder())?.startsWith('node-c/') ? true : undefined));
    expect(await listenerPort()).to.equal(port);
  });

  fakeOnly('SIGTERM while the API server hangs: the leader still drains and exits cleanly', async () => {
    const { agent } = await startAgent('node-a');
    await until('a leader', async () => ((await leaseHolder())?.startsWith('node-a/') ? true : undefined));
    const port = await listenerPort();
    // Watches that served a while, then cut while the server hangs: they are re-opened at once
    // and left waiting for an answer that never comes.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server.fake!.freeze();
    server.fake!.breakWatches();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Requests are accepted and never answered: the agent must not wait for them to stop.
    try {
      expect(await agent.stop(), 'exit code (null: killed after the grace period)').to.equal(0);
    } finally {
      server.fake!.thaw();
    }
    expect((await answers(port, 1)).size, 'the listener is closed').to.equal(0);
  });

  fakeOnly('a CoreDNS check that hangs does not hold up the config updates of the leader', async () => {
    // Only the CoreDNS lookups hang (client-node's own client, no timeout); the rest answers.
    server.fake!.freeze((_method, path) => path.startsWith('/apis/apps/v1/namespaces/kube-system/deployments'));
    try {
      await startAgent('node-a');
      await until('a leader', async () => ((await leaseHolder())?.startsWith('node-a/') ? true : undefined));
      const port = await listenerPort();
      await until('traffic to web-a', async () => ((await answers(port, 1)).has('200 web-a') ? true : undefined));
      await create('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', slice('web-b', addresses.b, ports.b));
      await until('both endpoints on the leader', async () => ((await answers(port, 10)).size === 2 ? true : undefined));
    } finally {
      server.fake!.thaw();
    }
  });
});

