/** Own names against the API (fake API server, real client): hosts ConfigMap, CoreDNS mount, Corefile region, cleanup. */
import { expect } from 'chai';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiServerPerTest } from '../../helpers/api-server-per-test.js';
import { ClusterDnsError, ORIGINAL_COREFILE_ANNOTATION, cleanupCoreDns, prepareCoreDns } from '../../../src/dns/coredns-api.js';
import { cleanupOwnNames, prepareOwnNames } from '../../../src/dns/coredns-own-names.js';
import { corefileOf, readState, seedCoreDns } from './coredns-cluster.js';

const WEB = { namespace: 'shop', name: 'web', addresses: ['10.96.0.20'] };

/** What manifests/35-own-names.yaml installs. */
async function seedHostsConfigMap(kc: KubeConfig): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'plexus-own-names', namespace: 'kube-system' }, data: { hosts: '' } } });
}

async function hostsFile(kc: KubeConfig): Promise<string | null> {
  try {
    return (await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'kube-system', name: 'plexus-own-names' })).data?.['hosts'] ?? null;
  } catch {
    return null;
  }
}

async function mounts(kc: KubeConfig): Promise<{ volumes: string[]; mounts: string[] }> {
  const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' });
  const spec = deployment.spec?.template.spec;
  return { volumes: (spec?.volumes ?? []).map((v) => v.name), mounts: (spec?.containers[0]?.volumeMounts ?? []).map((m) => `${m.name}:${m.mountPath}`) };
}

describe('CoreDNS own names against the API (fake API server, real client)', () => {
  const api = apiServerPerTest({ bookmarkIntervalMs: 60_000 });

  it('touches nothing while no Service opts in', async () => {
    const original = corefileOf('kubeadm-1.11.Corefile');
    await seedCoreDns(api.kc, { corefile: original });
    const before = await readState(api.kc);
    expect(await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [] })).to.deep.include({ changed: false, rolled: false });
    const after = await readState(api.kc);
    expect([after.resourceVersion, after.deploymentVersion]).to.deep.equal([before.resourceVersion, before.deploymentVersion]);
    expect(await hostsFile(api.kc)).to.equal(null);
  });

  it('says which manifest is missing when the hosts ConfigMap is not installed', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('kubeadm-1.11.Corefile') });
    try {
      await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [WEB] });
      expect.fail('prepared without the ConfigMap');
    } catch (err) {
      expect(String(err)).to.match(/plexus-own-names does not exist: apply manifests\/35-own-names\.yaml/);
    }
  });

  it('writes the hosts file, mounts it and adds the hosts line once; later changes rewrite only the hosts file; cleanup undoes the mount and the line', async () => {
    const original = corefileOf('kubeadm-1.11.Corefile');
    await seedCoreDns(api.kc, { corefile: original });
    await seedHostsConfigMap(api.kc);
    await prepareCoreDns(api.kc, { meshDomain: 'plexus', namespace: 'plexus' });
    const first = await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [WEB] });
    expect(first).to.deep.include({ changed: true, rolled: true });
    expect(await hostsFile(api.kc)).to.include('\n10.96.0.20 web.shop.svc.cluster.local\n');
    expect(await mounts(api.kc)).to.deep.equal({
      volumes: ['config-volume', 'plexus-own-names'], mounts: ['config-volume:/etc/coredns', 'plexus-own-names:/etc/plexus-own-names'],
    });
    const patched = await readState(api.kc);
    expect(patched.corefile).to.include('hosts /etc/plexus-own-names/hosts {');
    expect(patched.annotations[ORIGINAL_COREFILE_ANNOTATION]).to.equal(original);

    const more = await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [WEB, { namespace: 'shop', name: 'cart', addresses: ['10.96.0.21'] }] });
    expect(more).to.deep.include({ changed: true, rolled: false });
    expect(await hostsFile(api.kc)).to.include('10.96.0.21 cart.shop.svc.cluster.local');
    const after = await readState(api.kc);
    expect([after.resourceVersion, after.deploymentVersion]).to.deep.equal([patched.resourceVersion, patched.deploymentVersion]);

    expect(await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [] })).to.deep.include({ changed: true, rolled: false });
    expect(await hostsFile(api.kc)).not.to.include('svc.cluster.local');

    await cleanupCoreDns(api.kc);
    expect(await cleanupOwnNames(api.kc)).to.deep.include({ changed: true, rolled: true });
    expect((await readState(api.kc)).corefile).to.equal(original);
    expect(await mounts(api.kc)).to.deep.equal({ volumes: ['config-volume'], mounts: ['config-volume:/etc/coredns'] });
    expect(await cleanupOwnNames(api.kc)).to.deep.include({ changed: false, rolled: false });
  });

  it('refuses a coredns-custom cluster and a cluster-domain block with its own hosts plugin, with a located reason', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('k3s.Corefile') });
    await seedHostsConfigMap(api.kc);
    try {
      await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [WEB] });
      expect.fail('k3s Corefile accepted');
    } catch (err) {
      expect(String(err)).to.match(/line 9: .*hosts plugin already/);
    }
    expect(await mounts(api.kc)).to.deep.equal({ volumes: ['config-volume'], mounts: ['config-volume:/etc/coredns'] });
  });

  it('refuses AKS coredns-custom', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('aks.Corefile'), custom: { 'x.server': '' } });
    try {
      await prepareOwnNames(api.kc, { meshDomain: 'plexus', names: [WEB] });
      expect.fail('coredns-custom accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(ClusterDnsError);
      expect(String(err)).to.match(/coredns-custom: own names .* not served/);
    }
  });
});
