/**
 * The leader's issuer against the fake API server, with the real client library: TokenReview,
 * the agent pod the token is bound to, the pods of its node. An agent gets certificates only for
 * the ServiceAccounts of its own node; every other request is refused, logged and counted.
 */
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ApiClient } from '../../../src/kube/api-client.js';
import { ensureCa, readCaSecret, saveCa } from '../../../src/secure/cluster/ca-store.js';
import { IssuerClient } from '../../../src/secure/cluster/issuer-client.js';
import { PromIssuerMetrics } from '../../../src/secure/cluster/issuer-metrics.js';
import { LeaderIssuer } from '../../../src/secure/cluster/leader-issuer.js';
import { locateLeader } from '../../../src/secure/cluster/kube-lookups.js';
import { rotateRoot, trustBundle, type MeshCa } from '../../../src/secure/ca.js';
import { IssuanceRefusedError } from '../../../src/secure/issuer.js';
import { verifyAgent, verifyPeer } from '../../../src/secure/workload-cert.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { eventually } from '../../unit/fake-apiserver/support.js';

const LEADER_IP = '127.0.63.1';
const AGENT_LABELS = { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' };

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('secure, cluster: the leader issues certificates after TokenReview and the node check', function () {
  this.timeout(180_000);
  let server: FakeApiServer;
  let core: CoreV1Api;
  let ca: MeshCa;
  let issuer: LeaderIssuer;
  let port: number;
  const registry = new Registry();
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, done) { logs.push(chunk.toString()); done(); } }));

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
    return new IssuerClient({
      locateLeader: () => locateLeader(new ApiClient(kubeconfigFor(server)), 'plexus'),
      port, token: async () => token, trustBundle: roots, trustDomain: 'cluster.local',
    });
  }

  async function decisions(outcome: string): Promise<number> {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'plexus_issuer_decisions_total');
    return Number((metric?.values ?? []).find((v) => v.labels.outcome === outcome)?.value ?? 0);
  }

  before(async () => {
    server = new FakeApiServer();
    await server.start();
    const kc = kubeconfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
    for (const name of ['plexus', 'shop']) await core.createNamespace({ body: { metadata: { name } } });
    ca = (await ensureCa(core, 'plexus', 'cluster.local')).ca;
    await registerAgent('token-a', 'agent-a', 'node-a', LEADER_IP);
    await registerAgent('token-b', 'agent-b', 'node-b', '127.0.63.2');
    await pod('shop', 'web-1', 'node-a', 'web', '127.0.64.1');
    await pod('shop', 'db-1', 'node-b', 'db', '127.0.64.2');
    await pod('shop', 'old-job', 'node-b', 'batch', '127.0.64.3').then((p) =>
      core.replaceNamespacedPodStatus({ namespace: 'shop', name: 'old-job', body: { ...p, status: { ...p.status, phase: 'Succeeded' } } }));
    server.tokens.register('token-web', { username: 'system:serviceaccount:shop:web', extra: { 'authentication.kubernetes.io/pod-name': ['web-1'] } });
    await new ApiClient(kc).request('POST', '/apis/coordination.k8s.io/v1/namespaces/plexus/leases', {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'plexus-leader' }, spec: { holderIdentity: 'node-a/agent-a/1', leaseDurationSeconds: 3600 } },
    });
    port = await freePort(LEADER_IP);
    issuer = new LeaderIssuer({
      kubeConfig: kc, client: new ApiClient(kc), namespace: 'plexus', account: { namespace: 'plexus', serviceAccount: 'plexus-agent' },
      nodeName: 'node-a', trustDomain: 'cluster.local', host: LEADER_IP, port, lifetimeMs: 3_600_000, logger, metrics: new PromIssuerMetrics(registry),
      reloadMs: 200,
    });
    await issuer.setLeading(true);
  });
  after(async () => {
    await issuer.stop();
    await server.stop();
  });

  it('an agent gets its own identity and the ServiceAccounts of its node, on its own key, from the mesh root', async () => {
    const b = client('token-b');
    const db = await b.issue('shop/db');
    expect(verifyPeer(db.certPem, trustBundle(ca), Date.now(), 'cluster.local')).to.deep.include({ ok: true, identity: 'shop/db' });
    const own = await b.issue('node/node-b');
    expect(verifyAgent(own.certPem, trustBundle(ca), Date.now(), 'node-b').ok).to.equal(true);
    expect(await decisions('issued')).to.be.at.least(2);
    // The leader asks its own issuer like every agent.
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
    for (const identity of ['shop/web', 'shop/batch', 'node/node-a']) {
      const err = await b.issue(identity).then(() => null, (e: unknown) => e);
      expect(err, identity).to.be.instanceOf(IssuanceRefusedError);
    }
    expect(await decisions('refused')).to.equal(before + 3);
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
    await pod('plexus', 'agent-b', 'node-b', 'plexus-agent', '127.0.63.2', AGENT_LABELS);
    const replaced = await client('token-b').issue('shop/db').then(() => null, (e: Error) => e);
    expect(replaced?.message).to.match(/was replaced since the token was issued/);
    expect(await decisions('unauthenticated')).to.be.at.least(before + 3);
  });

  it('after plexus ca rotate the leader signs with the new root, and its endpoint presents a certificate from it', async () => {
    const stored = (await readCaSecret(core, 'plexus'))!;
    const rotated = rotateRoot(stored.ca);
    await saveCa(core, 'plexus', stored, rotated, 0);
    ca = rotated;
    // Trusting only the new root: the endpoint's certificate and the one returned must both come from it.
    const onlyNew = client('token-a', () => [rotated.certPem]);
    const cert = await eventually(() => onlyNew.issue('shop/web').catch(() => undefined), 10_000, 'a certificate from the new root');
    expect(new X509Certificate(cert.certPem).issuer).to.equal(rotated.cert.subject);
  });
});
