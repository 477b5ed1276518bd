/**
 * Two "agents" on loopback addresses: A (node-a, the caller) holds certificates for the pods of
 * its node; B (node-b) runs a tunnel listener in front of a TCP echo "pod". Streams cross the
 * tunnel and are authorized at B by the caller's certificate identity.
 * Addresses of this file: 127.88.0.0/16.
 */
import { expect } from 'chai';
import { connect as h2connect, constants as h2 } from 'node:http2';
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import type { SourceIdentity } from '../../../src/routing/mesh-config.js';
import { createRootCa, retireRoot, rotateRoot, trustBundle, type MeshCa } from '../../../src/secure/ca.js';
import { CertificateStore } from '../../../src/secure/certificate-store.js';
import { LocalIssuer } from '../../../src/secure/issuer.js';
import type { HandshakeOutcome, SecureMetrics } from '../../../src/secure/metrics.js';
import { TunnelClient, TunnelError, type TunnelPeer } from '../../../src/secure/tunnel/client.js';
import type { TunnelTarget } from '../../../src/secure/tunnel/protocol.js';
import { TunnelServer, type TunnelAuthorizer, type TunnelServerOptions } from '../../../src/secure/tunnel/server.js';
import { issueNodeCert, issueWorkloadCert } from '../../../src/secure/workload-cert.js';

const TRUST_DOMAIN = 'cluster.local';
const HOUR = 60 * 60 * 1000;
const logger = pino({ level: 'silent' });

const NODE_A_PODS: SourceIdentity[] = [
  { ip: '10.1.0.1', namespace: 'shop', pod: 'web-1', serviceAccount: 'web' },
  { ip: '10.1.0.2', namespace: 'shop', pod: 'api-1', serviceAccount: 'api' },
  { ip: '10.1.0.3', namespace: 'shop', pod: 'intruder-1', serviceAccount: 'intruder' },
];
/** What B's TrafficTargets grant (L4). */
const ALLOWED = new Set(['shop/web', 'shop/api']);

class Recorder {
  readonly connections: HandshakeOutcome[] = [];
  readonly decisions: { source: string; destination: string; allowed: boolean }[] = [];
  readonly metrics: SecureMetrics = {
    certificateIssuance() {},
    certificateExpiry() {},
    authorization: (source, destination, allowed) => this.decisions.push({ source, destination, allowed }),
    tunnelConnection: (outcome) => this.connections.push(outcome),
  };
}

interface Agent {
  readonly server: TunnelServer;
  readonly peer: TunnelPeer;
  readonly recorder: Recorder;
  readonly seen: { identity: string | null; target: TunnelTarget }[];
}

describe('secure tunnel (two agents on loopback)', function () {
  const ca = createRootCa(TRUST_DOMAIN);
  const bundle = trustBundle(ca);
  let echo: Server;
  let pod: { host: string; port: number };
  const agents: Agent[] = [];
  const clients: TunnelClient[] = [];
  const sockets: Socket[] = [];
  let storeOffsetMs = 0;

  before(async () => {
    echo = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => socket.destroy());
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.88.0.4', resolve));
    pod = { host: '127.88.0.4', port: (echo.address() as AddressInfo).port };
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(agents.splice(0).map((agent) => agent.server.close()));
    storeOffsetMs = 0;
  });

  /** An agent's tunnel listener on `host`, presenting `nodeName`'s certificate from `signer`. */
  async function startAgent(host: string, nodeName: string, options: { signer?: MeshCa; permissive?: boolean; clock?: () => number; deliver?: TunnelServerOptions['deliver'] } = {}): Promise<Agent> {
    const recorder = new Recorder();
    const seen: Agent['seen'] = [];
    const authorize: TunnelAuthorizer = (identity, target) => {
      seen.push({ identity, target });
      const isPod = target.host === pod.host && target.port === pod.port;
      const allowed = isPod && (identity === null ? options.permissive === true : ALLOWED.has(identity));
      return { allowed, reason: allowed ? 'allowed by TrafficTarget shop/echo' : `${identity ?? 'plaintext'} may not reach ${target.host}:${target.port}`, destination: 'shop/echo' };
    };
    const own = issueNodeCert(options.signer ?? ca, nodeName);
    const server = new TunnelServer({
      host, port: 0, trustDomain: TRUST_DOMAIN, authorize, logger, metrics: recorder.metrics,
      credentials: { certPem: own.certPem, keyPem: own.keyPem, trustBundle: bundle },
      permissive: options.permissive ?? false,
      clock: options.clock ?? Date.now,
      deliver: options.deliver,
    });
    const address = await server.listen();
    const agent = { server, peer: { host, port: address.port, nodeName }, recorder, seen };
    agents.push(agent);
    return agent;
  }

  /** Agent A's certificates and tunnel client. */
  async function startCaller(identities: string[] = ['shop/web', 'shop/api', 'shop/intruder']): Promise<{ client: TunnelClient; store: CertificateStore }> {
    const issuer = new LocalIssuer({ nodeName: 'node-a', ca: () => ca, identities: () => NODE_A_PODS, logger });
    const store = new CertificateStore({ source: issuer.issue, clock: () => Date.now() + storeOffsetMs });
    await store.sync(identities);
    const client = new TunnelClient({ certificate: (identity) => store.get(identity), trustBundle: () => bundle, trustDomain: TRUST_DOMAIN });
    clients.push(client);
    return { client, store };
  }

  const target = (): TunnelTarget => ({ ...pod, service: 'shop/echo:7/TCP' });

  it('carries a stream from A to the pod behind B, authorized with A\'s certificate identity', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const { client } = await startCaller();
    const stream = await client.openStream('shop/web', b.peer, target());
    expect(await echoOf(stream, 'hello through the tunnel')).to.equal('hello through the tunnel');
    stream.end();
    expect(b.seen).to.deep.equal([{ identity: 'shop/web', target: { host: pod.host, port: pod.port, service: 'shop/echo:7/TCP' } }]);
    expect(b.recorder.decisions).to.deep.equal([{ source: 'shop/web', destination: 'shop/echo', allowed: true }]);
    expect(b.recorder.connections).to.deep.equal(['accepted']);
  });

  it('refuses an identity no TrafficTarget grants (403), and a target that is not a local pod', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const { client } = await startCaller();
    const refused = await rejectionOf(client.openStream('shop/intruder', b.peer, target()));
    expect(refused.status).to.equal(403);
    expect(refused.message).to.match(/shop\/intruder may not reach/);
    const elsewhere = await rejectionOf(client.openStream('shop/web', b.peer, { host: '127.88.0.9', port: 22, service: null }));
    expect(elsewhere.status).to.equal(403);
    expect(b.recorder.decisions.map((d) => [d.source, d.allowed])).to.deep.equal([['shop/intruder', false], ['shop/web', false]]);
  });

  it('ignores X-Forwarded-For and client-supplied identity headers', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const web = issueWorkloadCert(ca, 'shop/web');
    const session = h2connect(`https://${b.peer.host}:${b.peer.port}`, {
      cert: web.certPem, key: web.keyPem, ca: bundle, checkServerIdentity: () => undefined,
    });
    try {
      const stream = session.request({
        ':method': 'CONNECT', ':authority': `${pod.host}:${pod.port}`,
        'x-forwarded-for': '10.9.9.9', 'x-plexus-identity': 'shop/admin', 'plexus-source': 'shop/admin', 'x-client-identity': 'shop/admin',
      });
      const status = await new Promise<number>((resolve, reject) => {
        stream.once('response', (headers) => resolve(Number(headers[h2.HTTP2_HEADER_STATUS])));
        stream.once('error', reject);
      });
      expect(status).to.equal(200);
      stream.destroy();
    } finally {
      session.destroy();
    }
    expect(b.seen.map((s) => s.identity)).to.deep.equal(['shop/web']);
  });

  it('refuses a caller whose certificate comes from another CA', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const rogue = createRootCa(TRUST_DOMAIN);
    const forged = issueWorkloadCert(rogue, 'shop/web');
    const client = new TunnelClient({ certificate: () => forged, trustBundle: () => bundle, trustDomain: TRUST_DOMAIN });
    clients.push(client);
    const error = await rejectionOf(client.openStream('shop/web', b.peer, target()));
    expect(error.status).to.equal(0);
    expect(b.seen).to.deep.equal([]);
    expect(b.recorder.connections).to.deep.equal(['rejected']);
  });

  it('refuses a caller whose certificate has expired by the destination\'s clock', async () => {
    const b = await startAgent('127.88.0.3', 'node-b', { clock: () => Date.now() + 2 * 24 * HOUR });
    const { client } = await startCaller();
    const error = await rejectionOf(client.openStream('shop/web', b.peer, target()));
    expect(error.status).to.equal(0);
    expect(b.seen).to.deep.equal([]);
    expect(b.recorder.connections).to.include('rejected');
  });

  it('the caller refuses a listener that is not the agent of the expected node', async () => {
    const impostor = await startAgent('127.88.0.3', 'node-c');
    const { client } = await startCaller();
    const error = await rejectionOf(client.openStream('shop/web', { ...impostor.peer, nodeName: 'node-b' }, target()));
    expect(error.message).to.match(/not the agent of node node-b/);
    const rogue = await startAgent('127.88.0.5', 'node-b', { signer: createRootCa(TRUST_DOMAIN) });
    expect((await rejectionOf(client.openStream('shop/web', rogue.peer, target()))).status).to.equal(0);
    expect(impostor.seen).to.deep.equal([]);
    expect(rogue.seen).to.deep.equal([]);
  });

  it('refuses plaintext callers', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect({ host: b.peer.host, port: b.peer.port }, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let received = '';
      socket.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
    expect(answer).to.equal('');
    const h2c = h2connect(`http://${b.peer.host}:${b.peer.port}`);
    const h2cFailed = await new Promise<boolean>((resolve) => {
      h2c.on('error', () => resolve(true));
      h2c.on('close', () => resolve(true));
      const stream = h2c.request({ ':method': 'CONNECT', ':authority': `${pod.host}:${pod.port}` });
      stream.on('response', () => resolve(false));
      stream.on('error', () => {});
    });
    h2c.destroy();
    expect(h2cFailed).to.equal(true);
    expect(b.recorder.connections).to.deep.equal(['plaintext-refused', 'plaintext-refused']);
    expect(b.seen).to.deep.equal([]);
  });

  it('a permissive listener lets plaintext callers in without an identity, and still serves mTLS', async () => {
    const b = await startAgent('127.88.0.3', 'node-b', { permissive: true });
    const h2c = h2connect(`http://${b.peer.host}:${b.peer.port}`);
    try {
      const stream = h2c.request({ ':method': 'CONNECT', ':authority': `${pod.host}:${pod.port}` });
      await new Promise<void>((resolve, reject) => {
        stream.once('response', (headers) => (headers[':status'] === 200 ? resolve() : reject(new Error(`status ${headers[':status']}`))));
        stream.once('error', reject);
      });
      expect(await echoOf(stream, 'plain')).to.equal('plain');
      stream.end();
    } finally {
      h2c.destroy();
    }
    const { client } = await startCaller();
    const secure = await client.openStream('shop/web', b.peer, target());
    expect(await echoOf(secure, 'secure')).to.equal('secure');
    secure.end();
    expect(b.seen.map((s) => s.identity)).to.deep.equal([null, 'shop/web']);
    expect(b.recorder.connections).to.deep.equal(['plaintext-permitted', 'accepted']);
  });

  it('uses one session per (source identity, destination agent), carrying many streams', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const c = await startAgent('127.88.0.5', 'node-c');
    const { client } = await startCaller();
    const streams = await Promise.all(Array.from({ length: 8 }, () => client.openStream('shop/web', b.peer, target())));
    const echoed = await Promise.all(streams.map((stream, i) => echoOf(stream, `stream ${i}`)));
    expect(echoed).to.deep.equal(streams.map((_, i) => `stream ${i}`));
    expect(client.sessionCount).to.equal(1);
    expect(b.recorder.connections).to.deep.equal(['accepted']);

    const api = await client.openStream('shop/api', b.peer, target());
    const toC = await client.openStream('shop/web', c.peer, target());
    expect(await echoOf(api, 'api')).to.equal('api');
    expect(await echoOf(toC, 'c')).to.equal('c');
    expect(client.sessionCount).to.equal(3);
    expect(b.recorder.connections).to.deep.equal(['accepted', 'accepted']);
    expect(c.recorder.connections).to.deep.equal(['accepted']);
    for (const stream of [...streams, api, toC]) stream.end();
  });

  it('hands the stream itself to a deliver handler, with the caller identity, for every request on it (L7)', async () => {
    // Stands in for the agent's HTTP gate: each request head on the stream is answered by what
    // the tunnel identity may do, on the same stream.
    const b = await startAgent('127.88.0.3', 'node-b', {
      deliver: (identity) => (stream) => {
        let pending = '';
        stream.on('data', (chunk: Buffer) => {
          pending += chunk.toString('latin1');
          for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
            const path = pending.split(' ')[1] ?? '';
            pending = pending.slice(end + 4);
            const allowed = identity === 'shop/web' && path === '/public';
            const body = `${identity ?? 'none'} ${path}`;
            stream.write(`HTTP/1.1 ${allowed ? '200 OK' : '403 Forbidden'}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
          }
        });
        stream.on('end', () => stream.end());
      },
    });
    const { client } = await startCaller();
    const stream = await client.openStream('shop/web', b.peer, target());
    const first = await httpExchange(stream, 'GET /public HTTP/1.1\r\nHost: echo\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n');
    expect(first).to.match(/^HTTP\/1\.1 200 /).and.match(/shop\/web \/public$/);
    const second = await httpExchange(stream, 'GET /admin HTTP/1.1\r\nHost: echo\r\n\r\n');
    expect(second).to.match(/^HTTP\/1\.1 403 /).and.match(/shop\/web \/admin$/);
    stream.end();
    await closed(stream);
  });

  it('renewal while a stream is open drops nothing: the old session drains, new streams use the new certificate', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const { client, store } = await startCaller(['shop/web']);
    const before = store.get('shop/web')!;
    const open = await client.openStream('shop/web', b.peer, target());
    expect(await echoOf(open, 'before renewal')).to.equal('before renewal');

    storeOffsetMs = 13 * HOUR; // past half the lifetime by the store's clock
    await store.renewDue();
    storeOffsetMs = 0;
    expect(store.get('shop/web')!.serialNumber).not.to.equal(before.serialNumber);

    const renewed = await client.openStream('shop/web', b.peer, target());
    expect(client.sessionCount).to.equal(2);
    expect(b.recorder.connections).to.deep.equal(['accepted', 'accepted']);
    // Both carry traffic at once: nothing was cut by the renewal.
    const bulk = 'x'.repeat(256 * 1024);
    const [oldEcho, newEcho] = await Promise.all([echoOf(open, bulk), echoOf(renewed, 'after renewal')]);
    expect(oldEcho).to.equal(bulk);
    expect(newEcho).to.equal('after renewal');

    open.end();
    await closed(open);
    await until(() => client.sessionCount === 1);
    expect(await echoOf(renewed, 'still here')).to.equal('still here');
    renewed.end();
  });

  it('CA rotation: both roots are trusted during the rotation, the old one is refused after retirement', async () => {
    const rotated = rotateRoot(ca);
    const b = await startAgent('127.88.0.3', 'node-b');
    const clientWith = (signer: MeshCa, trusted: string[]): TunnelClient => {
      const cert = issueWorkloadCert(signer, 'shop/web');
      const client = new TunnelClient({ certificate: () => cert, trustBundle: () => trusted, trustDomain: TRUST_DOMAIN });
      clients.push(client);
      return client;
    };
    const before = await clientWith(ca, bundle).openStream('shop/web', b.peer, target());

    // B learns the new bundle and moves its own certificate to the new root.
    const own = issueNodeCert(rotated, 'node-b');
    b.server.updateCredentials({ certPem: own.certPem, keyPem: own.keyPem, trustBundle: trustBundle(rotated) });
    const oldRootCaller = await clientWith(ca, trustBundle(rotated)).openStream('shop/web', b.peer, target());
    const newRootCaller = await clientWith(rotated, trustBundle(rotated)).openStream('shop/web', b.peer, target());
    expect(await echoOf(before, 'opened before')).to.equal('opened before');
    expect(await echoOf(oldRootCaller, 'old root')).to.equal('old root');
    expect(await echoOf(newRootCaller, 'new root')).to.equal('new root');

    const retired = retireRoot(rotated, { force: true });
    b.server.updateCredentials({ certPem: own.certPem, keyPem: own.keyPem, trustBundle: trustBundle(retired) });
    const refused = await rejectionOf(clientWith(ca, trustBundle(retired)).openStream('shop/web', b.peer, target()));
    expect(refused.status).to.equal(0);
    const stillFine = await clientWith(rotated, trustBundle(retired)).openStream('shop/web', b.peer, target());
    expect(await echoOf(stillFine, 'after retire')).to.equal('after retire');
    for (const stream of [before, oldRootCaller, newRootCaller, stillFine]) stream.end();
  });

  it('streams opened before, during and after a renewal all succeed (bounded load)', async () => {
    const b = await startAgent('127.88.0.3', 'node-b');
    const { client, store } = await startCaller(['shop/web']);
    const roundTrip = async (i: number): Promise<string> => {
      const stream = await client.openStream('shop/web', b.peer, target());
      const answer = await echoOf(stream, `request ${i}`);
      stream.end();
      return answer;
    };
    const first = Array.from({ length: 15 }, (_, i) => roundTrip(i));
    storeOffsetMs = 13 * HOUR;
    const renewal = store.renewDue();
    const during = Array.from({ length: 15 }, (_, i) => roundTrip(15 + i));
    await renewal;
    storeOffsetMs = 0;
    const after = Array.from({ length: 15 }, (_, i) => roundTrip(30 + i));
    const answers = await Promise.all([...first, ...during, ...after]);
    expect(answers).to.deep.equal(Array.from({ length: 45 }, (_, i) => `request ${i}`));
    expect(b.recorder.decisions.filter((d) => d.allowed)).to.have.length(45);
  });
});

/** Writes `text` and resolves with as many bytes read back. */
function echoOf(stream: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const expected = Buffer.byteLength(text);
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= expected) {
        stream.off('data', onData);
        stream.off('error', reject);
        stream.pause();
        resolve(Buffer.concat(chunks).toString());
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.resume(); // a stream paused by an earlier call does not flow again by itself
    stream.write(text);
  });
}

/** Sends one HTTP/1.1 request and resolves with its whole response (the body is the last line). */
function httpExchange(stream: Duplex, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      const headEnd = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received);
      if (headEnd >= 0 && length !== null && received.length >= headEnd + 4 + Number(length[1])) {
        stream.off('data', onData);
        stream.off('error', reject);
        resolve(received);
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.resume();
    stream.write(request);
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<TunnelError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(TunnelError);
    return err as TunnelError;
  }
  return expect.fail('expected the tunnel to refuse');
}

function closed(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) resolve();
    else stream.once('close', () => resolve());
    stream.resume();
  });
}

/** Waits for a condition, bounded (60 s, ending as soon as it holds) so a failure never hangs the run. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(condition()).to.equal(true);
}
