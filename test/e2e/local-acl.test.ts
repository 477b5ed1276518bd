/** ACL mode end to end: TrafficTargets decide who may call what; the real agent with --acl. */
import { connect } from 'node:net';
import { expect } from 'chai';
import { httpBackend, httpCall, tcpEchoBackend, type Backend } from './helpers/backends.js';
import { httpAccess, manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { startAgent, waitForConfig, type ConfigView, type RunningAgent } from './helpers/plexus.js';

const NS = 'acltest';
const WEB_IP = '127.0.23.1';
const DB_IP = '127.0.23.2';
const CLIENT_IP = '127.0.23.10';
const OTHER_IP = '127.0.23.11';

/** Sends a line over TCP; resolves to the echo, or null when the agent closed the connection. */
function tcpExchange(host: string, port: number, from: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, localAddress: from });
    let received = '';
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('connect', () => socket.write('ping\n'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received === 'ping\n') socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received === '' ? null : received));
  });
}

describe('local mode: ACL with TrafficTargets (real agent, --acl)', () => {
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  let web: Backend;
  let vip = '';
  let dbVip = '';
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('workloads.yaml',
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      service({ name: 'db', namespace: NS, port: 9100, selector: { app: 'db' }, annotations: { 'plexus.dev/traffic-type': 'tcp' } }),
      pod({ name: 'web-1', namespace: NS, ip: WEB_IP, labels: { app: 'web' }, serviceAccount: 'web' }),
      pod({ name: 'db-1', namespace: NS, ip: DB_IP, labels: { app: 'db' }, serviceAccount: 'db' }),
      pod({ name: 'client', namespace: NS, ip: CLIENT_IP, serviceAccount: 'client' }),
      pod({ name: 'other', namespace: NS, ip: OTHER_IP, serviceAccount: 'other' }));
    web = await httpBackend('web-1', WEB_IP, 8080);
    backends.push(web, await tcpEchoBackend(DB_IP, 9100));
    agent = await startAgent(['--manifests', folder.dir, '--node-name', 'n1', '--vip-cidr', '127.123.0.0/24', '--dns-port', '0', '--acl']);
    vip = agent.ready.vips[`${NS}/web`] ?? '';
    dbVip = agent.ready.vips[`${NS}/db`] ?? '';
  });

  after(async () => {
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  const webAccess = (view: ConfigView) => view.config.services.find((s) => s.key === `${NS}/web`)?.ports[0]?.access ?? [];

  async function grant(name: string, matches: Parameters<typeof httpAccess>[4]): Promise<void> {
    await folder.write('access.yaml', httpAccess(NS, name, 'web', 'client', matches));
    await waitForConfig(agent!.ready.adminPort, (view) => webAccess(view).some((rule) => rule.trafficTarget === `${NS}/${name}`));
  }

  it('without a TrafficTarget, a known pod gets 403', async () => {
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP })).status).to.equal(403);
  });

  it('with a TrafficTarget for the caller\'s ServiceAccount: 200, and the backend sees the request unchanged', async () => {
    await grant('all', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]);
    const before = web.seen.length;
    const result = await httpCall({
      host: vip, port: 8080, from: CLIENT_IP, method: 'PUT', path: '/items/7?color=blue',
      headers: { 'x-custom': 'kept', 'content-type': 'text/plain' }, body: 'payload',
    });
    expect(result.status).to.equal(200);
    expect(web.seen.length).to.equal(before + 1);
    const seen = web.seen[web.seen.length - 1]!;
    expect(seen).to.deep.include({ method: 'PUT', url: '/items/7?color=blue', body: 'payload' });
    expect(seen.headers['x-custom']).to.equal('kept');
    expect(seen.headers['content-type']).to.equal('text/plain');
  });

  it('a caller with another ServiceAccount, or not a pod at all, still gets 403', async () => {
    expect((await httpCall({ host: vip, port: 8080, from: OTHER_IP })).status).to.equal(403);
    expect((await httpCall({ host: vip, port: 8080, from: '127.0.0.1' })).status).to.equal(403);
  });

  it('path rule: /metrics allowed, /echo denied (anchored at the start)', async () => {
    await grant('paths', [{ name: 'metrics', pathRegex: '/metrics', methods: ['*'] }]);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, path: '/metrics' })).status).to.equal(200);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, path: '/echo' })).status).to.equal(403);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, path: '/x/metrics' })).status).to.equal(403);
  });

  it('method rule: GET allowed, POST denied', async () => {
    await grant('methods', [{ name: 'reads', pathRegex: '/.*', methods: ['GET'] }]);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, method: 'GET' })).status).to.equal(200);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, method: 'POST', body: 'x' })).status).to.equal(403);
  });

  it('header rule: only requests carrying the header value are allowed', async () => {
    await folder.write('access.yaml', `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: header-routes
  namespace: ${NS}
spec:
  matches:
    - name: beta-users
      headers:
        x-user-group: "^beta$"
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: headers
  namespace: ${NS}
spec:
  destination: { kind: ServiceAccount, name: web, namespace: ${NS} }
  sources: [{ kind: ServiceAccount, name: client, namespace: ${NS} }]
  rules: [{ kind: HTTPRouteGroup, name: header-routes, matches: [beta-users] }]
`);
    await waitForConfig(agent!.ready.adminPort, (view) => webAccess(view).some((rule) => rule.trafficTarget === `${NS}/headers`));
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, headers: { 'x-user-group': 'beta' } })).status).to.equal(200);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP, headers: { 'x-user-group': 'gamma' } })).status).to.equal(403);
  });

  it('deleting the TrafficTarget file denies again', async () => {
    await folder.remove('access.yaml');
    await waitForConfig(agent!.ready.adminPort, (view) => webAccess(view).length === 0);
    expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP })).status).to.equal(403);
  });

  it('TCPRoute port list: the allowed ServiceAccount connects, another one is closed at accept', async () => {
    expect(await tcpExchange(dbVip, 9100, CLIENT_IP)).to.equal(null);
    await folder.write('tcp-access.yaml', `apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata:
  name: db-port
  namespace: ${NS}
spec:
  matches:
    ports: [9100]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: client-to-db
  namespace: ${NS}
spec:
  destination: { kind: ServiceAccount, name: db, namespace: ${NS} }
  sources: [{ kind: ServiceAccount, name: client, namespace: ${NS} }]
  rules: [{ kind: TCPRoute, name: db-port }]
`);
    await waitForConfig(agent!.ready.adminPort, (view) =>
      (view.config.services.find((s) => s.key === `${NS}/db`)?.ports[0]?.access.length ?? 0) > 0);
    expect(await tcpExchange(dbVip, 9100, CLIENT_IP)).to.equal('ping\n');
    expect(await tcpExchange(dbVip, 9100, OTHER_IP)).to.equal(null);
  });
});
