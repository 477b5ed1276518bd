/**
 * The mesh CA in a cluster, through the real `plexus` binary against the fake API server:
 * prepare creates the Secret and the trust bundle once, never replaces them; ca rotate / retire
 * change them in place; cleanup removes what Plexus made and keeps a Secret the user brought.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { createRootCa } from '../../../src/secure/ca.js';
import { caSecretData, newCaSecret } from '../../../src/issuer/ca-objects.js';
import { CA_BUNDLE_KEY, rootsFromBundle } from '../../../src/secure/cluster/ca-bundle.js';
import { publishBundle, readCaSecret } from '../../../src/issuer/ca-store.js';
import { kubeconfigFor, writeKubeconfig } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { FIXTURES } from '../../helpers/paths.js';
import { runPlexus, type RunResult } from '../../e2e/helpers/plexus.js';
import { seedCoreDns } from '../../unit/dns-corefile/coredns-cluster.js';

/** The real `plexus` binary, outside any pod (90 s: start-up takes seconds on a loaded machine). */
function plexus(args: readonly string[]): Promise<RunResult> {
  return runPlexus(args, 90_000, { KUBERNETES_SERVICE_HOST: '' });
}

describe('mesh CA in a cluster: plexus prepare / ca rotate / ca retire / cleanup (with secure mode\'s NetworkPolicies)', function () {
  // Eight CLI runs in one test: each starts Node and client-node, seconds apiece on a loaded machine.
  this.timeout(300_000);
  let server: FakeApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let dir: string;
  let kubeconfig: string;

  const bundle = async (): Promise<string[]> => {
    const map = await core.readNamespacedConfigMap({ namespace: 'plexus', name: 'plexus-ca-bundle' });
    return rootsFromBundle(map.data?.[CA_BUNDLE_KEY] ?? '').map((pem) => pem.trim());
  };

  beforeEach(async () => {
    server = new FakeApiServer({ bookmarkIntervalMs: 60_000 });
    await server.start();
    kc = kubeconfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    await seedCoreDns(kc, { corefile: readFileSync(join(FIXTURES, 'corefiles', 'k3s.Corefile'), 'utf8') });
    dir = mkdtempSync(join(tmpdir(), 'plexus-cluster-ca-'));
    kubeconfig = writeKubeconfig(server, join(dir, 'kubeconfig'));
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prepare creates the CA once and publishes its root; rotate and retire change it in place; cleanup deletes both', async () => {
    const first = await plexus(['prepare', '--kubeconfig', kubeconfig, '--trust-domain', 'mesh.test']);
    expect(first.stdout, first.stderr).to.match(/mesh CA: created Secret plexus\/plexus-ca \(trust domain mesh\.test/);
    const created = (await readCaSecret(core, 'plexus'))!;
    expect(created.type).to.equal('Opaque');
    expect(await bundle()).to.deep.equal([created.ca.certPem.trim()]);

    const second = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(second.stdout, second.stderr).to.match(/Secret plexus\/plexus-ca exists \(trust domain mesh\.test\); left as it is/);
    expect(second.stdout).to.match(/warning: the CA's trust domain is mesh\.test, not cluster\.local/);
    expect((await readCaSecret(core, 'plexus'))!.ca.certPem).to.equal(created.ca.certPem);

    const rotate = await plexus(['ca', 'rotate', '--wait', '0', '--kubeconfig', kubeconfig]);
    expect(rotate.code, rotate.stderr).to.equal(0);
    const rotated = (await readCaSecret(core, 'plexus'))!;
    expect(rotated.ca.previousCertPem).to.equal(created.ca.certPem);
    expect(await bundle()).to.deep.equal([rotated.ca.certPem.trim(), created.ca.certPem.trim()]);

    const early = await plexus(['ca', 'retire', '--kubeconfig', kubeconfig]);
    expect(early.code).to.equal(2);
    expect(early.stderr).to.match(/may still be in use until/);
    const retire = await plexus(['ca', 'retire', '--force', '--kubeconfig', kubeconfig]);
    expect(retire.code, retire.stderr).to.equal(0);
    expect((await readCaSecret(core, 'plexus'))!.ca.previousCert).to.equal(null);
    expect(await bundle()).to.deep.equal([rotated.ca.certPem.trim()]);

    // A NetworkPolicy the leader wrote goes with cleanup; one of the user's stays.
    const net = kc.makeApiClient(NetworkingV1Api);
    const policy = (name: string, labels: Record<string, string>) => net.createNamespacedNetworkPolicy({
      namespace: 'plexus', body: { metadata: { name, labels }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    });
    await policy('plexus-web', { 'app.kubernetes.io/managed-by': 'plexus' });
    await policy('users-own', {});

    const cleanup = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(cleanup.stdout, cleanup.stderr).to.match(/NetworkPolicies: deleted 1/);
    expect((await net.listNetworkPolicyForAllNamespaces()).items.map((p) => p.metadata?.name)).to.deep.equal(['users-own']);
    expect(cleanup.stdout, cleanup.stderr).to.match(/mesh CA: deleted Secret plexus\/plexus-ca/);
    expect(cleanup.stdout).to.match(/mesh CA: deleted ConfigMap plexus\/plexus-ca-bundle/);
    expect(await readCaSecret(core, 'plexus')).to.equal(null);
    // The tap token prepare made goes too; a second cleanup finds nothing.
    expect(cleanup.stdout).to.match(/^tap token: deleted Secret plexus\/plexus-tap$/m);
    expect((await core.listNamespacedSecret({ namespace: 'plexus' })).items.map((s) => s.metadata?.name)).to.deep.equal([]);
    const again = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(again.stdout, again.stderr).to.match(/^tap token: none left$/m);
  });

  it('a kubernetes.io/tls CA Secret the user brought is used, never replaced, and kept by cleanup', async () => {
    const own = createRootCa('cluster.local');
    await core.createNamespacedSecret({ namespace: 'plexus', body: { metadata: { name: 'plexus-ca' }, type: 'kubernetes.io/tls', data: caSecretData(own, 'kubernetes.io/tls') } });
    const prepare = await plexus(['prepare', '--kubeconfig', kubeconfig]);
    expect(prepare.stdout, prepare.stderr).to.match(/exists \(trust domain cluster\.local\); left as it is/);
    expect(await bundle()).to.deep.equal([own.certPem.trim()]);
    expect((await readCaSecret(core, 'plexus'))!.ca.certPem).to.equal(own.certPem);

    // A tap token the user brought is kept as well.
    await core.replaceNamespacedSecret({ namespace: 'plexus', name: 'plexus-tap', body: { metadata: { name: 'plexus-tap' }, data: { token: Buffer.from('own').toString('base64') } } });
    const cleanup = await plexus(['cleanup', '--kubeconfig', kubeconfig]);
    expect(cleanup.stdout, cleanup.stderr).to.match(/mesh CA: kept Secret plexus\/plexus-ca \(not made by Plexus/);
    expect(cleanup.stdout).to.match(/^tap token: kept Secret plexus\/plexus-tap \(not made by Plexus/m);
    expect((await readCaSecret(core, 'plexus'))!.ca.certPem).to.equal(own.certPem);
  });

  it('ca init without --dir is refused: in a cluster prepare creates the CA', async () => {
    const init = await plexus(['ca', 'init', '--kubeconfig', kubeconfig]);
    expect(init.code).to.equal(2);
    expect(init.stderr).to.match(/created by plexus prepare/);
  });

  it('plexus check warns about a root near its end, and fails when the Secret signs with a root the agents do not trust', async () => {
    const none = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(none.stdout).to.match(/^skip  mesh CA: no ConfigMap plexus\/plexus-ca-bundle: secure mode is not set up/m);
    expect(none.stdout).to.match(/^skip  NetworkPolicies: none written/m);
    const old = createRootCa('cluster.local', new Date(Date.now() - 9.5 * 365 * 24 * 3600 * 1000));
    await core.createNamespacedSecret({ namespace: 'plexus', body: newCaSecret(old, 'plexus') });
    await publishBundle(core, 'plexus', old);
    const ending = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(ending.stdout).to.match(/^warn  mesh CA: the mesh root expires at \S+: run plexus ca rotate$/m);
    const other = createRootCa('cluster.local');
    await core.replaceNamespacedSecret({ namespace: 'plexus', name: 'plexus-ca', body: newCaSecret(other, 'plexus') });
    const diverged = await plexus(['check', '--kubeconfig', kubeconfig]);
    expect(diverged.stdout).to.match(/^FAIL  mesh CA: .*the signing root of Secret plexus\/plexus-ca is not in the trust bundle/m);
  });
});
