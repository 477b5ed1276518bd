/**
 * The cluster's certificate issuer (`runIssuer`, what `plexus issuer` runs) against the fake API
 * server, with the real client library and the agents' real IssuerClient: TokenReview, the agent
 * pod the token is bound to, the pods of its node. An agent gets certificates only for the
 * ServiceAccounts of its own node; every other request is refused, logged and counted. Also: the
 * issuer without a CA (not ready, 503), a CA rotation, and draining on stop.
 * Addresses of this file: issuer 127.0.63.1, agent pods 127.0.63.2-3, an impostor 127.0.63.4, workload pods 127.0.64.0/24.
 */
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { pino } from 'pino';
import { ensureCa, readCaSecret, saveCa } from '../../../src/issuer/ca-store.js';
import { CA_SECRET_NAME } from '../../../src/issuer/ca-objects.js';
import { IssuerClient } from '../../../src/secure/cluster/issuer-client.js';
import { runIssuer } from '../../../src/issuer/issuer-run.js';
import { rotateRoot, trustBundle, type MeshCa } from '../../../src/secure/ca.js';
import { IssuanceRefusedError } from '../../../src/secure/issuer.js';
import { issueNodeCert, verifyAgent, verifyPeer } from '../../../src/secure/workload-cert.js';
import { kubeconfigFor, writeKubeconfig } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { eventually } from '../../unit/fake-apiserver/support.js';

const ISSUER_IP = '127.0.63.1';
const AGENT_LABELS = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RunningIssuer {
  readonly port: number;
  readonly adminPort: number;
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

async function startIssuer(kubeconfig: string, logs: string[], drainWindowMs = 0): Promise<RunningIssuer> {
  const [port, adminPort] = [await freePort(ISSUER_IP), await freePort(ISSUER_IP)];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, done) { logs.push(chunk.toString()); done(); } }));
  const controller = new AbortController();
  const stopped = runIssuer({
    kubeconfig, namespace: 'plexus', trustDomain: 'cluster.local', listenAddress: ISSUER_IP, port, adminAddress: ISSUER_IP, adminPort,
    certLifetimeMs: 3_600_000, drainWindowMs, drainTimeoutMs: 5_000, logger, caReloadMs: 200,
  }, controller.signal);
  return { port, adminPort, stopped, stop: async () => { controller.abort(); await stopped; } };
}

async function readyz(issuer: RunningIssuer): Promise<{ status: number; body: { reason?: string } }> {
  const response = await fetch(`http://${ISSUER_IP}:${issuer.adminPort}/readyz`);
  return { status: response.status, body: await response.json() as { reason?: string } };
}

describe('secure, cluster: the issuer Deployment issues certificates after TokenReview and the node check', function () {
  this.timeout(180_000);
  let server: FakeApiServer;
  let core: CoreV1Api;
  let ca: MeshCa;
  let dir: string;
  let issuer: RunningIssuer;
  const logs: string[] = [];

  async function pod(namespace: string, name: string, node: string, serviceAccountName: string, ip: string, labels: Record<string, string> = {}): Promise<V1Pod> {
    const created = await core.createNamespacedPod({ namespace, body: { metadata: { name, labels }, spec: { nodeName: node, serviceAccountName, containers: [{ name: 'c', image: 'i' }] } } });
    return core.replaceNamespacedPodStatus({ namespace, name, body: { ...created, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } } });
  }

  async function registerAgent(token: string, name: string, node: string, ip: string): Promise<void> {
    const created = await pod('plexus', name, node, 'plexus-agent', ip, AGENT_LABELS);
    server.tokens.register(token, {
      username: 'system:serviceaccount:plexus:plexus-agent',
      extra: { 'authentication.kubernetes.io/pod-name': [name], 'authentication.kubernetes.io/pod-uid': [created.metadata!.uid!] },
    });
  }

  function client(token: string, roots: () => readonly string[] = () => trustBundle(ca)): IssuerClient {
    return new IssuerClient({ issuer: { host: ISSUER_IP, port: issuer.port }, token: async () => token, trustBundle: roots, trustDomain: 'cluster.local' });
  }

  async function decisions(outcome: string): Promise<number> {
    const text = await (await fetch(`http://${ISSUER_IP}:${issuer.adminPort}/metrics`)).text();
    return Number(new RegExp(`^plexus_issuer_decisions_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  }

  before(async () => {
    server = new FakeApiServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'plexus-issuer-'));
    const kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig'));
    core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    for (const name of ['plexus', 'shop']) await core.createNamespace({ body: { metadata: { name } } });
    await registerAgent('token-a', 'agent-a', 'node-a', '127.0.63.2');
    await registerAgent('token-b', 'agent-b', 'node-b', '127.0.63.3');
    await pod('shop', 'web-1', 'node-a', 'web', '127.0.64.1');
    await pod('shop', 'db-1', 'node-b', 'db', '127.0.64.2');
    await pod('shop', 'old-job', 'node-b', 'batch', '127.0.64.3').then((p) =>
      core.replaceNamespacedPodStatus({ namespace: 'shop', name: 'old-job', body: { ...p, status: { ...p.status, phase: 'Succeeded' } } }));
    server.tokens.register('token-web', { username: 'system:serviceaccount:shop:web', extra: { 'authentication.kubernetes.io/pod-name': ['web-1'] } });
    // Started before the CA exists, as on a fresh install: not ready, and it says why.
    issuer = await startIssuer(kubeconfig, logs);
    const waiting = await eventually(async () => {
      const answer = await readyz(issuer).catch(() => undefined);
      return answer?.body.reason?.includes('plexus prepare') ? answer : undefined;
    }, 60_000, 'the issuer to say it has no CA');
    expect(waiting.status).to.equal(503);
    ca = (await ensureCa(core, 'plexus', 'cluster.local')).ca;
    await eventually(async () => ((await readyz(issuer)).status === 200 ? true : undefined), 60_000, 'the issuer to be ready');
  });
  after(async () => {
    await issuer?.stop();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('an agent gets its own identity and the ServiceAccounts of its node, on its own key, from the mesh root', async () => {
    const b = client('token-b');
    const db = await b.issue('shop/db');
    expect(verifyPeer(db.certPem, trustBundle(ca), Date.now(), 'cluster.local')).to.deep.include({ ok: true, identity: 'shop/db' });
    const own = await b.issue('node/node-b');
    expect(verifyAgent(own.certPem, trustBundle(ca), Date.now(), 'node-b').ok).to.equal(true);
    expect(await decisions('issued')).to.be.at.least(2);
    expect((await client('token-a').issue('shop/web')).spiffeId).to.equal('spiffe://cluster.local/ns/shop/sa/web');
  });

  it('requests made together go in one request: one TokenReview, each identity decided on its own', async () => {
    const reviews = (): number => server.requests.filter((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews').length;
    const before = reviews();
    const b = client('token-b');
    const [db, web] = await Promise.allSettled([b.issue('shop/db'), b.issue('shop/web')]);
    expect(db.status).to.equal('fulfilled');
    expect(web.status === 'rejected' && web.reason).to.be.instanceOf(IssuanceRefusedError);
    expect(reviews()).to.equal(before + 1);
  });

  it('an agent asking for a ServiceAccount of another node, a finished pod, or another agent identity is refused and logged', async () => {
    const before = await decisions('refused');
    const b = client('token-b');
    for (const identity of ['shop/web', 'shop/batch', 'node/node-a', 'issuer']) {
      const err = await b.issue(identity).then(() => null, (e: unknown) => e);
      expect(err, identity).to.be.instanceOf(IssuanceRefusedError);
    }
    expect(await decisions('refused')).to.equal(before + 4);
    const refusal = logs.map((l) => JSON.parse(l) as { msg: string; node?: string; identity?: string; reason?: string })
      .find((l) => l.msg === 'certificate request refused' && l.identity === 'shop/web');
    expect(refusal).to.deep.include({ node: 'node-b' });
    expect(refusal?.reason).to.match(/no pod with ServiceAccount shop\/web runs on node node-b/);
  });

  it('a forged token, a workload token, and a token of a replaced agent pod are refused before any identity is considered', async () => {
    const before = await decisions('unauthenticated');
    const forged = await client('forged').issue('shop/db').then(() => null, (e: Error) => e);
    expect(forged?.message).to.match(/401: token not authenticated/);
    const web = await client('token-web').issue('shop/web').then(() => null, (e: Error) => e);
    expect(web?.message).to.match(/401: token of system:serviceaccount:shop:web, not of the agent ServiceAccount/);
    await core.deleteNamespacedPod({ namespace: 'plexus', name: 'agent-b' });
    await pod('plexus', 'agent-b', 'node-b', 'plexus-agent', '127.0.63.3', AGENT_LABELS);
    const replaced = await client('token-b').issue('shop/db').then(() => null, (e: Error) => e);
    expect(replaced?.message).to.match(/was replaced since the token was issued/);
    expect(await decisions('unauthenticated')).to.be.at.least(before + 3);
  });

  it('an agent checks the endpoint is the issuer before sending its token: an agent certificate from the mesh CA is not enough', async () => {
    // An endpoint presenting node-a's agent certificate, signed by the real CA: the agent must not send its token there.
    const agentCert = issueNodeCert(ca, 'node-a');
    let received = 0;
    const impostor = createHttpsServer({ cert: agentCert.certPem, key: agentCert.keyPem, minVersion: 'TLSv1.3' }, (_req, res) => {
      received++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.63.4', resolve));
    try {
      const port = (impostor.address() as { port: number }).port;
      const agent = new IssuerClient({ issuer: { host: '127.0.63.4', port }, token: async () => 'token-a', trustBundle: () => trustBundle(ca), trustDomain: 'cluster.local' });
      const refused = await agent.issue('shop/web').then(() => null, (e: Error) => e);
      expect(refused?.message).to.match(/agent ID of node node-a is not the mesh's certificate issuer/);
      expect(received).to.equal(0);
    } finally {
      impostor.closeAllConnections();
      await new Promise((resolve) => impostor.close(resolve));
    }
  });

  it('after plexus ca rotate the issuer signs with the new root, and its endpoint presents a certificate from it', async () => {
    const stored = (await readCaSecret(core, 'plexus'))!;
    const rotated = rotateRoot(stored.ca);
    await saveCa(core, 'plexus', stored, rotated, 0);
    ca = rotated;
    const onlyNew = client('token-a', () => [rotated.certPem]);
    const cert = await eventually(() => onlyNew.issue('shop/web').catch(() => undefined), 60_000, 'a certificate from the new root');
    expect(new X509Certificate(cert.certPem).issuer).to.equal(rotated.cert.subject);
  });

  it('without the CA Secret (plexus cleanup) it stops signing: 503 with the reason, and not ready', async () => {
    await core.deleteNamespacedSecret({ namespace: 'plexus', name: CA_SECRET_NAME });
    await eventually(async () => ((await readyz(issuer)).status === 503 ? true : undefined), 60_000, 'the issuer to drop the CA');
    const err = await client('token-a').issue('shop/web').then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/503: no Secret plexus\/plexus-ca: create the mesh CA with plexus prepare/);
    ca = (await ensureCa(core, 'plexus', 'cluster.local')).ca;
    await eventually(async () => ((await readyz(issuer)).status === 200 ? true : undefined), 60_000, 'the issuer to load the new CA');
  });
});

describe('secure, cluster: the issuer drains when stopped', function () {
  this.timeout(180_000);
  let server: FakeApiServer;
  let dir: string;

  before(async () => {
    server = new FakeApiServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'plexus-issuer-drain-'));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('not ready at once, still answering through the drain window, then stopped', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    const ca = (await ensureCa(core, 'plexus', 'cluster.local')).ca;
    const created = await core.createNamespacedPod({ namespace: 'plexus', body: { metadata: { name: 'agent-a', labels: AGENT_LABELS }, spec: { nodeName: 'node-a', serviceAccountName: 'plexus-agent', containers: [{ name: 'c', image: 'i' }] } } });
    await core.replaceNamespacedPodStatus({ namespace: 'plexus', name: 'agent-a', body: { ...created, status: { phase: 'Running', podIP: '127.0.63.2' } } });
    server.tokens.register('token-a', { username: 'system:serviceaccount:plexus:plexus-agent', extra: { 'authentication.kubernetes.io/pod-name': ['agent-a'] } });
    // A window long enough for the request below on a busy machine; the test lasts about as long.
    const issuer = await startIssuer(writeKubeconfig(server, join(dir, 'kubeconfig')), [], 8_000);
    await eventually(async () => ((await readyz(issuer).catch(() => undefined))?.status === 200 ? true : undefined), 60_000, 'ready');
    const stopping = issuer.stop();
    const notReady = await readyz(issuer);
    expect(notReady.status).to.equal(503);
    expect(notReady.body.reason).to.match(/draining/);
    const agent = new IssuerClient({ issuer: { host: ISSUER_IP, port: issuer.port }, token: async () => 'token-a', trustBundle: () => trustBundle(ca), trustDomain: 'cluster.local' });
    expect((await agent.issue('node/node-a')).identity).to.equal('node/node-a');
    await stopping;
    const after = await agent.issue('node/node-a').then(() => null, (e: Error) => e);
    expect(after?.message).to.match(/ECONNREFUSED/);
  });
});
