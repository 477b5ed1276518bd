/**
 * An agent stopping in Kubernetes mode drains (what a DaemonSet rollout needs, issue 21): on
 * SIGTERM `/readyz` fails at once while the listeners keep accepting for the drain window (the
 * endpoint removal has to reach kube-proxy first), every exchange then ends its connection
 * (`Connection: close`, so keep-alive clients reconnect without losing a request), a request in
 * flight when the window ends still completes, and the agent exits 0.
 * The real binary against the fake API server. Addresses of this file: agent 127.0.75.1,
 * client 127.0.75.2, the pod 127.0.76.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { kubeconfigFor, writeKubeconfig } from '../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../fake-apiserver/server.js';
import { PLEXUS_ARGV } from '../helpers/paths.js';
import { eventually } from './helpers/plexus.js';

const AGENT_IP = '127.0.75.1';
const CLIENT_IP = '127.0.75.2';
const POD_IP = '127.0.76.1';
/** Long enough for the requests below on a busy machine: the test lasts about as long. */
const DRAIN_WINDOW_S = 8;

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
}

function call(port: number, path: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: AGENT_IP, port, path, agent, localAddress: CLIENT_IP, timeout: 30_000 }, (res: IncomingMessage) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('kube mode: an agent drains on SIGTERM', function () {
  this.timeout(120_000);
  let server: FakeApiServer;
  let kc: KubeConfig;
  let dir: string;
  let pod: Server;
  /** Answers held by the pod until released (a request in flight across the end of the window). */
  const held: ServerResponse[] = [];
  const agents: AgentProcess[] = [];

  before(async () => {
    server = new FakeApiServer({ allowLoopbackEndpoints: true, bookmarkIntervalMs: 500 });
    await server.start();
    kc = kubeconfigFor(server);
    dir = await mkdtemp(join(tmpdir(), 'plexus-drain-'));
    pod = createServer((req, res) => {
      if (req.url === '/slow') held.push(res);
      else res.end('pod');
    });
    await new Promise<void>((resolve) => pod.listen(8080, POD_IP, resolve));
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    await core.createNamespace({ body: { metadata: { name: 'shop', annotations: { 'plexus.dev/mesh': 'true' } } } });
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'discovery.k8s.io', version: 'v1', namespace: 'shop', plural: 'endpointslices',
      body: {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4', endpoints: [{ addresses: [POD_IP], nodeName: 'node-a', conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    });
  });

  after(async () => {
    for (const res of held.splice(0)) res.end();
    await Promise.all(agents.map((agent) => agent.stop()));
    pod?.closeAllConnections();
    await new Promise((resolve) => pod?.close(resolve));
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('fails /readyz at once, keeps accepting through the window with Connection: close, finishes what is in flight, exits 0', async () => {
    const agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--kubeconfig', writeKubeconfig(server, join(dir, 'kubeconfig')), '--namespace', 'plexus', '--node-name', 'node-a',
      '--listen-address', AGENT_IP, '--admin-port', '0', '--admin-address', AGENT_IP, '--drain-window', String(DRAIN_WINDOW_S), '--drain-timeout', '30',
    ]);
    agents.push(agent);
    const { adminPort } = await agent.ready();
    const readyz = async (): Promise<{ status: number; reason?: string }> => {
      const response = await fetch(`http://${AGENT_IP}:${adminPort}/readyz`);
      return { status: response.status, ...(await response.json() as { reason?: string }) };
    };
    const port = await eventually(async () => {
      const view = await (await fetch(`http://${AGENT_IP}:${adminPort}/config`)).json() as { config?: { allocation?: { ports?: Record<string, number> } } };
      const allocated = Object.values(view.config?.allocation?.ports ?? {})[0];
      if (allocated === undefined) throw new Error('no listener yet');
      return allocated;
    }, 30_000);
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await eventually(async () => {
      const answer = await call(port, '/', keepAlive);
      if (answer.status !== 200) throw new Error(`status ${answer.status}`);
      return answer;
    }, 30_000);
    expect(first.connection).not.to.equal('close');

    process.kill(agent.pid!, 'SIGTERM');
    const draining = await eventually(async () => {
      const answer = await readyz();
      if (answer.status !== 503) throw new Error('still ready');
      return answer;
    }, 5_000);
    expect(draining.reason).to.match(/draining/);
    // Still accepting: a new connection is served, and told to close.
    const fresh = await call(port, '/', false);
    expect([fresh.status, fresh.body, fresh.connection]).to.deep.equal([200, 'pod', 'close']);
    // The kept-alive connection's next request is served too, and ends that connection.
    const reused = await call(port, '/', keepAlive);
    expect([reused.status, reused.connection]).to.deep.equal([200, 'close']);
    // A request in flight when the window ends completes; then the agent exits cleanly.
    const slow = call(port, '/slow', false);
    await eventually(async () => {
      if (held.length === 0) throw new Error('the slow request has not reached the pod');
    }, 10_000);
    await eventually(async () => {
      const refused = await call(port, '/', false).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      if (!refused) throw new Error('still accepting');
    }, 30_000);
    held.shift()!.end('slow');
    expect((await slow).body).to.equal('slow');
    expect(await agent.exited).to.equal(0);
    keepAlive.destroy();
  });
});
