/**
 * Secure mode on the real cluster (issue 21), 3 of 3: the issuer Deployment refuses what it must
 * (a token bound to no pod, a pod that is no agent, an agent asking for another node), and an
 * issuer replica killed while the agents renew (60 s certificates) leaves renewals and traffic
 * going. Ends in plain mode.
 */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { until } from './helpers/cluster.js';
import { agentsRolledOut, MESH_NAMESPACE } from './helpers/install.js';
import { agentCertificates, issuerRolledOut, runningPods, secureFileHooks } from './helpers/secure.js';
import { applyAll, ClientPod, clientPod, podsReady, scriptsConfigMap } from './helpers/workloads.js';

const ISSUER = `https://plexus-issuer.${MESH_NAMESPACE}.svc:15012/v1/certificates`;
const TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

describe('cluster: the issuer Deployment refuses and survives (issue 21)', function () {
  this.timeout(900_000);
  const file = secureFileHooks('secure');

  after(async () => {
    if (file.ready) await file.cluster.kubectl.ok(['delete', 'pod', '-n', MESH_NAMESPACE, 'impostor', '--ignore-not-found', '--wait=false']).catch(() => undefined);
  });

  it('RBAC on the real API server: only the issuer reads the CA Secret; agents create no TokenReview; neither gets more than it uses', async () => {
    const { cluster } = file;
    const can = async (account: string, ...what: string[]): Promise<string> => {
      const run = await cluster.kubectl.run(['auth', 'can-i', ...what, '-n', MESH_NAMESPACE, `--as=system:serviceaccount:${MESH_NAMESPACE}:${account}`]);
      return `${account} ${what.join(' ')}: ${run.stdout.trim() || run.stderr.trim()}`;
    };
    const expectations: ReadonlyArray<readonly [string, string[], 'yes' | 'no']> = [
      ['plexus-agent', ['get', 'secret/plexus-ca'], 'no'],
      ['plexus-agent', ['list', 'secrets'], 'no'],
      ['plexus-agent', ['watch', 'secrets'], 'no'],
      ['plexus-agent', ['create', 'tokenreviews.authentication.k8s.io'], 'no'],
      ['plexus-agent', ['update', 'configmap/plexus-ca-bundle'], 'no'],
      ['plexus-agent', ['get', 'configmap/plexus-ca-bundle'], 'yes'],
      ['plexus-agent', ['watch', 'pods'], 'yes'],
      ['plexus-issuer', ['get', 'secret/plexus-ca'], 'yes'],
      ['plexus-issuer', ['get', 'secret/plexus-tap-token'], 'no'],
      ['plexus-issuer', ['list', 'secrets'], 'no'],
      ['plexus-issuer', ['update', 'secret/plexus-ca'], 'no'],
      ['plexus-issuer', ['create', 'tokenreviews.authentication.k8s.io'], 'yes'],
      ['plexus-issuer', ['watch', 'pods'], 'no'],
      ['plexus-issuer', ['update', 'leases.coordination.k8s.io'], 'no'],
      ['plexus-issuer', ['create', 'services'], 'no'],
    ];
    const answers = await Promise.all(expectations.map(([account, what]) => can(account, ...what)));
    expect(answers).to.deep.equal(expectations.map(([account, what, answer]) => `${account} ${what.join(' ')}: ${answer}`));
  });

  it('refuses a token bound to no pod, a pod that is not an agent, and an agent asking for another node', async () => {
    const { cluster } = file;
    const publicKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const body = (identity: string): string => JSON.stringify({ requests: [{ identity, publicKey }] });
    // From a pod of the mesh namespace that runs as the agents' ServiceAccount but is no agent.
    await applyAll(cluster, [scriptsConfigMap(MESH_NAMESPACE), { ...clientPod(cluster, MESH_NAMESPACE, 'impostor', 'plexus-agent'), metadata: { name: 'impostor', namespace: MESH_NAMESPACE, labels: { role: 'impostor' } } }]);
    await podsReady(cluster, MESH_NAMESPACE, 'role=impostor');
    const impostor = new ClientPod(cluster, MESH_NAMESPACE, 'impostor');
    const post = async (token: string, identity: string): Promise<{ status: number; body: string }> => {
      const out = await impostor.exec(['sh', '-c', 'curl -sk --tlsv1.3 -m 10 -w "\\n%{http_code}" -H "authorization: Bearer $0" -H "content-type: application/json" -d "$1" "$2"', token, body(identity), ISSUER]);
      const lines = out.stdout.trimEnd().split('\n');
      return { status: Number(lines.pop()), body: lines.join('\n') };
    };
    const unbound = (await cluster.kubectl.ok(['create', 'token', 'plexus-agent', '-n', MESH_NAMESPACE, '--duration=10m'])).trim();
    const notBound = await post(unbound, 'node/kube-node-1');
    expect(notBound.status, notBound.body).to.equal(401);
    expect(notBound.body).to.match(/not bound to a pod/);
    const own = (await impostor.exec(['cat', TOKEN_FILE])).stdout.trim();
    const notAgent = await post(own, 'node/kube-node-1');
    expect(notAgent.status, notAgent.body).to.equal(401);
    expect(notAgent.body).to.match(/is not an agent pod/);
    const agent = (await runningPods(cluster, 'agent')).items[0]!.metadata.name;
    const agentToken = (await cluster.kubectl.ok(['exec', '-n', MESH_NAMESPACE, agent, '--', 'node', '-e', `process.stdout.write(require('fs').readFileSync('${TOKEN_FILE}', 'utf8'))`])).trim();
    for (const identity of ['node/another-node', 'shop/nobody']) {
      const refused = await post(agentToken, identity);
      expect(refused.status, refused.body).to.equal(200);
      const answer = JSON.parse(refused.body) as { certificates: unknown[]; refused: { identity: string; reason: string }[] };
      expect(answer.certificates, identity).to.deep.equal([]);
      expect(answer.refused.map((r) => r.identity)).to.deep.equal([identity]);
    }
  });

  it('an issuer replica killed while the agents renew: renewals go on through the other, traffic goes on', async () => {
    const { cluster, loads } = file;
    // Short certificates (60 s, renewed every 30 s): an issuer rollout, then the agents take them.
    await cluster.kubectl.ok(['set', 'env', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer', 'PLEXUS_CERT_LIFETIME=60']);
    await issuerRolledOut(cluster);
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'daemonset/plexus-agent']);
    await agentsRolledOut(cluster);
    loads.start();
    const agent = (await runningPods(cluster, 'agent')).items[0]!.metadata.name;
    const ownEnd = async (): Promise<number> => Math.max(0, ...(await agentCertificates(cluster, agent)).filter((c) => c.identity.startsWith('node/')).map((c) => Date.parse(c.notAfter)));
    for (let kill = 0; kill < 3; kill++) {
      const before = await ownEnd();
      const issuers = (await runningPods(cluster, 'issuer')).items;
      await cluster.kubectl.ok(['delete', 'pod', '-n', MESH_NAMESPACE, issuers[0]!.metadata.name, '--grace-period=0', '--force', '--wait=false']);
      await until('the agent to renew its certificate after the kill', async () => ((await ownEnd()) > before ? true : undefined), 180_000);
    }
    await loads.stop();
    await cluster.kubectl.ok(['set', 'env', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer', 'PLEXUS_CERT_LIFETIME-']);
    await issuerRolledOut(cluster);
  });
});
