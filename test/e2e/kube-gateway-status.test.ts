/**
 * Gateway API route status from a real agent in Kubernetes mode (the fake API server, or the real
 * one under test:cluster): the HTTPRoute CRD installed after the agent started is discovered (at
 * the next discovery, every 30 s), and the leader writes the route's status.parents, again for a new generation.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { FIXTURES, PLEXUS_ARGV } from '../helpers/paths.js';
import { apiServerKinds, startApiServer, type TestApiServer } from './helpers/api-servers.js';

interface Condition { readonly type: string; readonly status: string; readonly reason: string; readonly observedGeneration: number }
interface Route {
  readonly metadata: { readonly generation: number };
  readonly status?: { readonly parents?: readonly { readonly controllerName: string; readonly conditions: readonly Condition[] }[] };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

for (const kind of apiServerKinds()) describe(`kube agent: Gateway API route status (${kind} API server)`, function () {
  this.timeout(300_000);
  let server: TestApiServer;
  let dir: string;
  let agent: AgentProcess | null = null;
  const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes';

  before(async () => {
    server = await startApiServer(kind, { bookmarkIntervalMs: 500 });
    dir = await mkdtemp(join(tmpdir(), 'plexus-gateway-'));
    for (const body of [{ metadata: { name: 'plexus' } }, { metadata: { name: 'shop', annotations: { 'plexus.dev/mesh': 'true' } } }]) {
      await server.request('POST', '/api/v1/namespaces', body);
    }
    await server.request('POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', server.kubeconfigFile(join(dir, 'kubeconfig')), '--namespace', 'plexus', '--node-name', 'node-a',
      '--listen-address', '127.27.9.1', '--admin-port', '0', '--admin-address', '127.0.0.1',
    ]);
    await agent.ready();
  });

  after(async () => {
    await agent?.stop();
    await server?.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io');
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function conditions(name: string): Promise<Record<string, string> | undefined> {
    const res = await server.request('GET', `${ROUTES}/${name}`);
    if (res.status !== 200) return undefined;
    const route = res.body as Route;
    const ours = route.status?.parents?.find((p) => p.controllerName === 'plexus.dev/mesh');
    if (!ours || ours.conditions.some((c) => c.observedGeneration !== route.metadata.generation)) return undefined;
    return Object.fromEntries(ours.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
  }

  it('discovers the CRD installed later and writes Accepted and ResolvedRefs for each generation', async () => {
    const crd = parse(await readFile(join(FIXTURES, 'gateway', 'crds', 'gateway.networking.k8s.io_httproutes.yaml'), 'utf8')) as unknown;
    const created = await server.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(created.status, JSON.stringify(created.body).slice(0, 300)).to.equal(201);
    const route = (backend: string): unknown => ({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ backendRefs: [{ name: backend, port: 80 }] }] },
    });
    await until('the CRD to be served', async () => ((await server.request('POST', ROUTES, route('web'))).status === 201 ? true : undefined));
    expect(await until('status for generation 1', () => conditions('r'))).to.deep.equal({ Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
    const current = (await server.request('GET', `${ROUTES}/r`)).body as Record<string, unknown>;
    const updated = await server.request('PUT', `${ROUTES}/r`, { ...current, spec: (route('missing') as { spec: unknown }).spec });
    expect(updated.status).to.equal(200);
    expect(await until('status for generation 2', () => conditions('r'))).to.deep.equal({ Accepted: 'True/Accepted', ResolvedRefs: 'False/BackendNotFound' });
  });
});
