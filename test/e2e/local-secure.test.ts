/**
 * Secure mode end to end, with the real binary: `plexus ca init`, then two agents as nodes A and
 * B (`--secure --ca-dir --tunnel-peer`). A client pod on A calls a Service whose pod is on B: the
 * request crosses A's tunnel and is authorized at B by the client's certificate identity.
 * Each agent reads its own manifest folder, so B's TrafficTargets can differ from A's and the
 * test sees that B decides.
 * Addresses of this file: pods 127.0.41.0/24, tunnels 127.0.42.1-2, VIPs 127.141/142.0.0/24.
 */
import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createRootCa, trustBundle } from '../../src/secure/ca.js';
import { issueWorkloadCert } from '../../src/secure/workload-cert.js';
import { httpBackend, httpCall, tcpEchoBackend, type Backend } from './helpers/backends.js';
import { httpAccess, manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { eventually, metricValue, runPlexus, startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';

const NS = 'securetest';
const CLIENT_A = '127.0.41.10';
const STRANGER_A = '127.0.41.11';
const WEB_B = '127.0.41.20';
const ECHO_B = '127.0.41.21';
const UNKNOWN = '127.0.41.99';
const TUNNEL_A = '127.0.42.1';
const TUNNEL_B = '127.0.42.2';
const TUNNEL_PORT = 15008;

const workloads = [
  service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
  service({ name: 'echo', namespace: NS, port: 9000, selector: { app: 'echo' }, annotations: { 'plexus.dev/traffic-type': 'tcp' } }),
  pod({ name: 'client-a', namespace: NS, ip: CLIENT_A, serviceAccount: 'client', nodeName: 'node-a' }),
  pod({ name: 'stranger-a', namespace: NS, ip: STRANGER_A, serviceAccount: 'stranger', nodeName: 'node-a' }),
  pod({ name: 'web-b', namespace: NS, ip: WEB_B, labels: { app: 'web' }, serviceAccount: 'web', nodeName: 'node-b' }),
  pod({ name: 'echo-b', namespace: NS, ip: ECHO_B, labels: { app: 'echo' }, serviceAccount: 'echo', nodeName: 'node-b' }),
];

/** TCP access for `source` to the echo Service's ServiceAccount (no HTTP matches: the whole port). */
function tcpAccess(source: string): string {
  return `apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: echo-access
  namespace: ${NS}
spec:
  destination: { kind: ServiceAccount, name: echo, namespace: ${NS} }
  sources:
    - { kind: ServiceAccount, name: ${source}, namespace: ${NS} }
  rules:
    - kind: TCPRoute
      name: echo-tcp
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata:
  name: echo-tcp
  namespace: ${NS}
spec:
  matches:
    ports: [9000]
`;
}

/** One TCP exchange through the mesh: what came back, or null when the connection was closed first. */
function tcpEcho(host: string, port: number, from: string, payload: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host, port, localAddress: from });
    let received = '';
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= payload.length) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.length > 0 ? received : null);
    });
  });
}

describe('local mode, secure: two agents, traffic across the tunnel', function () {
  this.timeout(180_000);
  let caDir: string;
  let folderA: ManifestFolder;
  let folderB: ManifestFolder;
  let nodeA: RunningAgent | null = null;
  let nodeB: RunningAgent | null = null;
  const backends: Backend[] = [];

  before(async () => {
    caDir = join(await mkdtemp(join(tmpdir(), 'plexus-secure-')), 'ca');
    const init = await runPlexus(['ca', 'init', '--dir', caDir]);
    expect(init.code, init.stderr).to.equal(0);
    expect((await stat(join(caDir, 'ca.key'))).mode & 0o777).to.equal(0o600);
    folderA = await manifestFolder();
    folderB = await manifestFolder();
    for (const folder of [folderA, folderB]) {
      await folder.write('ns.yaml', namespace(NS));
      await folder.write('workloads.yaml', ...workloads);
      await folder.write('web-access.yaml', httpAccess(NS, 'client-to-web', 'web', 'client', [{ name: 'api', pathRegex: '/api/.*', methods: ['GET'] }]));
      await folder.write('echo-access.yaml', tcpAccess('client'));
    }
    backends.push(await httpBackend('web-b', WEB_B, 8080), await tcpEchoBackend(ECHO_B, 9000));
    const common = ['--acl', '--secure', '--ca-dir', caDir, '--tunnel-port', String(TUNNEL_PORT), '--dns-port', '0'];
    nodeA = await startAgent([...common, '--manifests', folderA.dir, '--node-name', 'node-a', '--vip-cidr', '127.141.0.0/24',
      '--tunnel-address', TUNNEL_A, '--tunnel-peer', `node-b=${TUNNEL_B}:${TUNNEL_PORT}`]);
    nodeB = await startAgent([...common, '--manifests', folderB.dir, '--node-name', 'node-b', '--vip-cidr', '127.142.0.0/24',
      '--tunnel-address', TUNNEL_B, '--tunnel-peer', `node-a=${TUNNEL_A}:${TUNNEL_PORT}`]);
  });

  after(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await Promise.all(backends.map((backend) => backend.close()));
    await Promise.all([folderA?.dispose(), folderB?.dispose()]);
    if (caDir !== undefined) await rm(join(caDir, '..'), { recursive: true, force: true });
  });

  const webVip = (): string => nodeA!.ready.vips[`${NS}/web`]!;
  const echoVip = (): string => nodeA!.ready.vips[`${NS}/echo`]!;

  it('an HTTP request from a pod on A to the pod on B crosses the tunnel and is authorized at B', async () => {
    const before = await metricValue(nodeB!.ready.adminPort, 'plexus_authorization_decisions_total', { source: `${NS}/client`, result: 'allowed' });
    const result = await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: CLIENT_A, headers: { 'x-forwarded-for': '10.0.0.1' } });
    expect(result.status).to.equal(200);
    expect(result.servedBy).to.equal('web-b');
    const after = await metricValue(nodeB!.ready.adminPort, 'plexus_authorization_decisions_total', { source: `${NS}/client`, result: 'allowed' });
    expect(after - before).to.equal(1);
    expect(await metricValue(nodeB!.ready.adminPort, 'plexus_tunnel_connections_total', { outcome: 'accepted' })).to.be.greaterThan(0);
  });

  it('B applies the HTTP routes of its TrafficTargets to the caller identity', async () => {
    const denied = await httpCall({ host: webVip(), port: 8080, path: '/admin', from: CLIENT_A });
    expect(denied.status).to.equal(403);
  });

  it('a pooled tunnel stream carries one identity only: with A allowing a second ServiceAccount, B still judges it as itself', async () => {
    const generation = (await waitForConfig(nodeA!.ready.adminPort, () => true)).generation;
    await folderA.write('stranger-access.yaml', httpAccess(NS, 'stranger-to-web', 'web', 'stranger', [{ name: 'api', pathRegex: '/api/.*', methods: ['GET'] }]));
    await waitForConfig(nodeA!.ready.adminPort, (view) => view.generation > generation);
    try {
      const denied = { source: `${NS}/stranger`, result: 'denied' };
      const before = await metricValue(nodeB!.ready.adminPort, 'plexus_authorization_decisions_total', denied);
      // The client's request leaves a keep-alive stream to B's pod in A's pool; the stranger's must not use it.
      expect((await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: CLIENT_A })).status).to.equal(200);
      expect((await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: STRANGER_A })).status).to.equal(403);
      expect((await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: CLIENT_A })).status).to.equal(200);
      expect(await metricValue(nodeB!.ready.adminPort, 'plexus_authorization_decisions_total', denied)).to.equal(before + 1);
    } finally {
      const next = (await waitForConfig(nodeA!.ready.adminPort, () => true)).generation;
      await folderA.remove('stranger-access.yaml');
      await waitForConfig(nodeA!.ready.adminPort, (view) => view.generation > next);
    }
  });

  it('a TCP connection from A to the pod on B crosses the tunnel (L4 authorization at B)', async () => {
    expect(await tcpEcho(echoVip(), 9000, CLIENT_A, 'ping over the tunnel')).to.equal('ping over the tunnel');
  });

  it('a TrafficTarget change at B takes effect at B, whatever A allows', async () => {
    const generation = (await waitForConfig(nodeB!.ready.adminPort, () => true)).generation;
    await folderB.write('web-access.yaml', httpAccess(NS, 'client-to-web', 'web', 'client', [{ name: 'none', pathRegex: '/nothing', methods: ['GET'] }]));
    await folderB.write('echo-access.yaml', tcpAccess('stranger'));
    await waitForConfig(nodeB!.ready.adminPort, (view) => view.generation > generation);
    // A still allows both; B refuses.
    expect((await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: CLIENT_A })).status).to.equal(403);
    expect(await tcpEcho(echoVip(), 9000, CLIENT_A, 'ping')).to.equal(null);
    expect(await metricValue(nodeB!.ready.adminPort, 'plexus_authorization_decisions_total', { source: `${NS}/client`, result: 'denied' }))
      .to.be.greaterThan(0);
    // And back.
    const next = (await waitForConfig(nodeB!.ready.adminPort, () => true)).generation;
    await folderB.write('web-access.yaml', httpAccess(NS, 'client-to-web', 'web', 'client', [{ name: 'api', pathRegex: '/api/.*', methods: ['GET'] }]));
    await folderB.write('echo-access.yaml', tcpAccess('client'));
    await waitForConfig(nodeB!.ready.adminPort, (view) => view.generation > next);
    await eventually(async () => expect((await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: CLIENT_A })).status).to.equal(200));
  });

  it('a caller that is not a pod of A gets no identity and no tunnel (fail closed)', async () => {
    // ACL at A refuses it first; the dialer would refuse it too.
    expect((await httpCall({ host: webVip(), port: 8080, path: '/api/items', from: UNKNOWN })).status).to.equal(403);
  });

  it('agent A holds certificates only for the ServiceAccounts of its node, and shows them in /config', async () => {
    const response = await fetch(`http://127.0.0.1:${nodeA!.ready.adminPort}/config`);
    const view = (await response.json()) as { secure: { permissive: boolean; certificates: { identity: string; spiffeId: string; notBefore: string; notAfter: string }[] } };
    expect(view.secure.permissive).to.equal(false);
    expect(view.secure.certificates.map((cert) => cert.identity)).to.deep.equal(['node/node-a', `${NS}/client`, `${NS}/stranger`]);
    const client = view.secure.certificates.find((cert) => cert.identity === `${NS}/client`)!;
    expect(client.spiffeId).to.equal(`spiffe://cluster.local/ns/${NS}/sa/client`);
    expect(Date.parse(client.notAfter) - Date.parse(client.notBefore)).to.equal(24 * 3600_000 + 5 * 60_000);
    expect(await metricValue(nodeA!.ready.adminPort, 'plexus_certificate_expiry_timestamp_seconds', { identity: `${NS}/client` })).to.be.greaterThan(Date.now() / 1000);
    expect(await metricValue(nodeA!.ready.adminPort, 'plexus_secure_permissive')).to.equal(0);
  });

  it('B refuses plaintext callers and certificates of another CA on its tunnel port', async () => {
    const plaintextBefore = await metricValue(nodeB!.ready.adminPort, 'plexus_tunnel_connections_total', { outcome: 'plaintext-refused' });
    const plain = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: TUNNEL_B, port: TUNNEL_PORT });
      socket.on('connect', () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
      socket.on('data', () => resolve(false));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(true));
    });
    expect(plain).to.equal(true);
    expect(await metricValue(nodeB!.ready.adminPort, 'plexus_tunnel_connections_total', { outcome: 'plaintext-refused' })).to.equal(plaintextBefore + 1);

    const other = createRootCa('cluster.local');
    const forged = issueWorkloadCert(other, `${NS}/client`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = tlsConnect({
        host: TUNNEL_B, port: TUNNEL_PORT, cert: forged.certPem, key: forged.keyPem, ca: trustBundle(other),
        ALPNProtocols: ['h2'], rejectUnauthorized: false,
      });
      // TLS 1.3: the server judges the client certificate after the client's handshake ends, so wait for the verdict.
      socket.on('secureConnect', () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
      socket.on('data', () => resolve(true));
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(false));
    });
    expect(accepted).to.equal(false);
  });
});

interface SecureView {
  readonly secure: {
    readonly permissive: boolean;
    readonly ca: { readonly root: string; readonly rotating: boolean };
    readonly certificates: readonly { readonly identity: string; readonly signedBy: string; readonly notBefore: string }[];
  };
}

async function secureView(adminPort: number): Promise<SecureView['secure']> {
  return ((await (await fetch(`http://127.0.0.1:${adminPort}/config`)).json()) as SecureView).secure;
}

/** Polls until `accept` holds for the agent's secure view (fails after `timeoutMs`). */
async function waitForSecure(adminPort: number, accept: (view: SecureView['secure']) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (accept(await secureView(adminPort))) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`secure view of agent on admin port ${adminPort} did not reach the expected state in ${timeoutMs} ms`);
}

describe('local mode, secure: renewal and CA rotation under load drop nothing', function () {
  this.timeout(300_000);
  const CLIENT = '127.0.41.30';
  const WEB = '127.0.41.31';
  let caDir: string;
  let folder: ManifestFolder;
  const agents: RunningAgent[] = [];
  let backend: Backend | null = null;

  before(async () => {
    caDir = join(await mkdtemp(join(tmpdir(), 'plexus-secure-')), 'ca');
    expect((await runPlexus(['ca', 'init', '--dir', caDir])).code).to.equal(0);
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('workloads.yaml',
      service({ name: 'web', namespace: NS, port: 8081, selector: { app: 'web' } }),
      pod({ name: 'client-a', namespace: NS, ip: CLIENT, serviceAccount: 'client', nodeName: 'node-a' }),
      pod({ name: 'web-b', namespace: NS, ip: WEB, labels: { app: 'web' }, serviceAccount: 'web', nodeName: 'node-b' }));
    await folder.write('access.yaml', httpAccess(NS, 'client-to-web', 'web', 'client', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]));
    backend = await httpBackend('web-b', WEB, 8081);
    // 10 s certificates: renewed every 5 s, so the load below spans several renewals.
    const common = ['--acl', '--secure', '--ca-dir', caDir, '--cert-lifetime', '10', '--tunnel-port', String(TUNNEL_PORT),
      '--dns-port', '0', '--manifests', folder.dir];
    agents.push(await startAgent([...common, '--node-name', 'node-a', '--vip-cidr', '127.141.1.0/24',
      '--tunnel-address', '127.0.42.3', '--tunnel-peer', `node-b=127.0.42.4:${TUNNEL_PORT}`]));
    agents.push(await startAgent([...common, '--node-name', 'node-b', '--vip-cidr', '127.142.1.0/24',
      '--tunnel-address', '127.0.42.4', '--tunnel-peer', `node-a=127.0.42.3:${TUNNEL_PORT}`]));
  });

  after(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await backend?.close();
    await folder?.dispose();
    if (caDir !== undefined) await rm(join(caDir, '..'), { recursive: true, force: true });
  });

  /**
   * Keeps 4 callers sending keep-alive-less requests from the client pod until `during` has
   * resolved, at most 20 000 requests or 90 s in all; returns every status seen.
   */
  async function loadWhile(during: Promise<void>): Promise<Map<number, number>> {
    const statuses = new Map<number, number>();
    const vip = agents[0]!.ready.vips[`${NS}/web`]!;
    let finished = false;
    void during.finally(() => { finished = true; });
    const deadline = Date.now() + 90_000;
    let budget = 20_000;
    const caller = async (): Promise<void> => {
      while (!finished && budget-- > 0 && Date.now() < deadline) {
        const status = await httpCall({ host: vip, port: 8081, from: CLIENT }).then((r) => r.status, () => 0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all([caller(), caller(), caller(), caller(), during]);
    return statuses;
  }

  it('certificates renew while requests flow, and every request succeeds', async () => {
    const adminA = agents[0]!.ready.adminPort;
    const issuedBefore = await metricValue(adminA, 'plexus_certificate_issuance_total', { identity: `${NS}/client`, outcome: 'issued' });
    const renewedTwice = (async () => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const issued = await metricValue(adminA, 'plexus_certificate_issuance_total', { identity: `${NS}/client`, outcome: 'issued' });
        if (issued >= issuedBefore + 2) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error('the client certificate was not renewed twice');
    })();
    const statuses = await loadWhile(renewedTwice);
    expect([...statuses.keys()]).to.deep.equal([200]);
    expect(statuses.get(200)).to.be.greaterThan(10);
  });

  it('a root rotation and retirement while requests flow drop nothing', async () => {
    const [a, b] = [agents[0]!.ready.adminPort, agents[1]!.ready.adminPort];
    const oldRoot = (await secureView(a)).ca.root;
    const rotation = (async () => {
      expect((await runPlexus(['ca', 'rotate', '--dir', caDir])).code).to.equal(0);
      // Every agent trusts both roots and has moved each certificate to the new one...
      for (const port of [a, b]) {
        await waitForSecure(port, (view) => view.ca.rotating && view.ca.root !== oldRoot
          && view.certificates.every((cert) => cert.signedBy === view.ca.root));
      }
      // ...so the old root can go at once.
      expect((await runPlexus(['ca', 'retire', '--dir', caDir, '--force'])).code).to.equal(0);
      for (const port of [a, b]) await waitForSecure(port, (view) => !view.ca.rotating);
    })();
    const statuses = await loadWhile(rotation);
    expect([...statuses.keys()]).to.deep.equal([200]);
  });
});

describe('local mode, secure: the permissive setting', function () {
  this.timeout(180_000);
  let caDir: string;
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  const TUNNEL = '127.0.42.5';

  before(async () => {
    caDir = join(await mkdtemp(join(tmpdir(), 'plexus-secure-')), 'ca');
    expect((await runPlexus(['ca', 'init', '--dir', caDir])).code).to.equal(0);
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('workloads.yaml', ...workloads);
    await folder.write('echo-access.yaml', tcpAccess('client'));
    agent = await startAgent(['--acl', '--secure', '--permissive', '--ca-dir', caDir, '--tunnel-address', TUNNEL,
      '--tunnel-port', String(TUNNEL_PORT), '--dns-port', '0', '--manifests', folder.dir, '--node-name', 'node-b', '--vip-cidr', '127.142.2.0/24']);
  });

  after(async () => {
    await agent?.stop();
    await folder?.dispose();
    if (caDir !== undefined) await rm(join(caDir, '..'), { recursive: true, force: true });
  });

  it('shows in /config and metrics, and lets a plaintext caller in without an identity (ACL refuses it)', async () => {
    expect((await secureView(agent!.ready.adminPort)).permissive).to.equal(true);
    expect(await metricValue(agent!.ready.adminPort, 'plexus_secure_permissive')).to.equal(1);
    const { connect: h2connect } = await import('node:http2');
    const session = h2connect(`http://${TUNNEL}:${TUNNEL_PORT}`);
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':method': 'CONNECT', ':authority': `${ECHO_B}:9000`, 'plexus-service': `${NS}/echo:9000/TCP` });
      stream.on('response', (headers) => resolve(Number(headers[':status'])));
      stream.on('error', reject);
    });
    session.destroy();
    expect(status).to.equal(403);
    expect(await metricValue(agent!.ready.adminPort, 'plexus_tunnel_connections_total', { outcome: 'plaintext-permitted' })).to.equal(1);
    expect(await metricValue(agent!.ready.adminPort, 'plexus_authorization_decisions_total', { source: 'plaintext', result: 'denied' })).to.equal(1);
  });
});
