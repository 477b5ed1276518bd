import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { apiServerPerTest } from '../../helpers/api-server-per-test.js';
import { COREFILE_HASH_ANNOTATION, ClusterDnsError, ORIGINAL_COREFILE_ANNOTATION, cleanupCoreDns, inspectCoreDns, prepareCoreDns } from '../../../src/dns/coredns-api.js';
import { customServerKey } from '../../../src/dns/corefile-custom.js';
import { corefileOf, readState, seedCoreDns } from './coredns-cluster.js';

const opts = { meshDomain: 'plexus', namespace: 'plexus' };
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('CoreDNS patch against the API (fake API server, real client)', () => {
  const api = apiServerPerTest({ bookmarkIntervalMs: 60_000 });

  it('prepare patches and rolls once; a second prepare writes and restarts nothing; cleanup restores byte-exact', async () => {
    const original = corefileOf('kubeadm-1.11.Corefile');
    await seedCoreDns(api.kc, { corefile: original });
    expect((await inspectCoreDns(api.kc, opts)).state).to.equal('missing');

    const first = await prepareCoreDns(api.kc, opts);
    expect(first).to.deep.include({ changed: true, rolled: true });
    const patched = await readState(api.kc);
    expect(patched.corefile.startsWith(original)).to.equal(true);
    expect(patched.corefile).to.include('# BEGIN plexus mesh-domain=plexus');
    expect(patched.corefile).to.include('{1}--{2}.plexus.svc.cluster.local.');
    expect(patched.annotations[ORIGINAL_COREFILE_ANNOTATION]).to.equal(original);
    expect(patched.template[COREFILE_HASH_ANNOTATION]).to.match(/^[0-9a-f]{16}$/);
    expect((await inspectCoreDns(api.kc, opts)).state).to.equal('current');

    const second = await prepareCoreDns(api.kc, opts);
    expect(second).to.deep.include({ changed: false, rolled: false });
    const after = await readState(api.kc);
    expect(after.resourceVersion).to.equal(patched.resourceVersion);
    expect(after.deploymentVersion).to.equal(patched.deploymentVersion);

    const cleaned = await cleanupCoreDns(api.kc);
    expect(cleaned).to.deep.include({ changed: true, rolled: true });
    const restored = await readState(api.kc);
    expect(restored.corefile).to.equal(original);
    expect(restored.annotations).not.to.have.property(ORIGINAL_COREFILE_ANNOTATION);
    expect(restored.template).not.to.have.property(COREFILE_HASH_ANNOTATION);

    expect(await cleanupCoreDns(api.kc)).to.deep.include({ changed: false, rolled: false });
    expect((await readState(api.kc)).resourceVersion).to.equal(restored.resourceVersion);
  });

  it('re-patches when the hashed Services change, and reports the old block as outdated', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('k3s.Corefile') });
    await prepareCoreDns(api.kc, opts);
    const withLong = { ...opts, services: [{ namespace: 'shop', name: 'web--canary' }] };
    expect((await inspectCoreDns(api.kc, withLong)).state).to.equal('outdated');
    expect(await prepareCoreDns(api.kc, withLong)).to.deep.include({ changed: true, rolled: true });
    expect((await readState(api.kc)).corefile).to.include('^web--canary\\.shop\\.plexus\\.?$');
    expect((await inspectCoreDns(api.kc, withLong)).state).to.equal('current');
  });

  it('uses the cluster domain of the Corefile and accepts an unknown version with a warning', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('gke-like.Corefile'), image: 'registry.example/coredns@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' });
    const result = await prepareCoreDns(api.kc, opts);
    expect(result.warnings.join()).to.match(/CoreDNS version unknown/);
    const { corefile } = await readState(api.kc);
    expect(corefile).to.include('plexus.svc.gke.internal.');
    expect(corefile.slice(corefile.indexOf('# BEGIN'))).not.to.include('upstream');
  });

  it('retries after a conflicting write and keeps the other writer\'s change', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('eks.Corefile') });
    const other = kubeconfigFor(api.server);
    let interfered = false;
    const proxy: Server = createServer((req, res) => {
      const forward = (): void => {
        const upstream = request({ host: '127.0.0.1', port: api.server.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        req.pipe(upstream);
      };
      if (req.method === 'PUT' && req.url?.startsWith('/api/v1/namespaces/kube-system/configmaps/coredns') && !interfered) {
        interfered = true;
        const core = other.makeApiClient(CoreV1Api);
        void core
          .patchNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns', body: { data: { 'extra.conf': 'by someone else' } } }, MERGE)
          .then(forward, (err: unknown) => res.destroy(err as Error));
      } else {
        forward();
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const viaProxy = kubeconfigFor({ url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      expect(await prepareCoreDns(viaProxy, opts)).to.deep.include({ changed: true });
      expect(interfered).to.equal(true);
      const core = api.kc.makeApiClient(CoreV1Api);
      const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' });
      expect(cm.data?.['extra.conf']).to.equal('by someone else');
      expect(cm.data?.['Corefile']).to.include('# BEGIN plexus');
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('writes AKS coredns-custom instead of the managed Corefile, and removes only its key', async () => {
    const original = corefileOf('aks.Corefile');
    const userServer = corefileOf('aks-coredns-custom.server');
    await seedCoreDns(api.kc, { corefile: original, image: 'mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4-hotfix.20230411', custom: { 'contoso.server': userServer } });
    expect(await prepareCoreDns(api.kc, opts)).to.deep.include({ changed: true, rolled: true, target: 'ConfigMap kube-system/coredns-custom' });
    const state = await readState(api.kc);
    expect(state.corefile).to.equal(original);
    expect(state.custom?.[customServerKey('plexus')]).to.include('plexus:53 {');
    expect(await prepareCoreDns(api.kc, opts)).to.deep.include({ changed: false, rolled: false });
    expect(await cleanupCoreDns(api.kc, 'plexus')).to.deep.include({ changed: true, rolled: true });
    expect((await readState(api.kc)).custom).to.deep.equal({ 'contoso.server': userServer });
  });

  it('writes the coredns-custom block on the port of the managed Corefile\'s root block', async () => {
    await seedCoreDns(api.kc, { corefile: corefileOf('aks.Corefile').replace('.:53 {', '.:1053 {'), custom: {} });
    await prepareCoreDns(api.kc, opts);
    expect((await readState(api.kc)).custom?.[customServerKey('plexus')]).to.include('plexus:1053 {');
  });

  it('cleanup removes a roll annotation left by an earlier cleanup that could not roll', async () => {
    const original = corefileOf('k3s.Corefile');
    await seedCoreDns(api.kc, { corefile: original });
    await prepareCoreDns(api.kc, opts);
    // The Corefile restored by hand (or by a cleanup whose roll failed): only the annotation is left.
    const core = api.kc.makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' });
    await core.replaceNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns', body: { ...cm, metadata: { ...cm.metadata, annotations: {} }, data: { Corefile: original } } });
    expect((await readState(api.kc)).template).to.have.property(COREFILE_HASH_ANNOTATION);
    expect(await cleanupCoreDns(api.kc)).to.deep.include({ changed: false, rolled: true });
    expect((await readState(api.kc)).template).to.deep.equal({});
    expect(await cleanupCoreDns(api.kc)).to.deep.include({ changed: false, rolled: false });
  });

  it('restores the saved original when the markers were damaged by hand', async () => {
    const original = corefileOf('microk8s.Corefile');
    await seedCoreDns(api.kc, { corefile: original });
    await prepareCoreDns(api.kc, opts);
    const core = api.kc.makeApiClient(CoreV1Api);
    const damaged = (await readState(api.kc)).corefile.replace('# END plexus mesh-domain=plexus', '# the end');
    await core.patchNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns', body: { data: { Corefile: damaged } } }, MERGE);
    try {
      await prepareCoreDns(api.kc, opts);
      expect.fail('prepare accepted damaged markers');
    } catch (err) {
      expect((err as Error).message).to.match(/no END marker/);
    }
    const cleaned = await cleanupCoreDns(api.kc);
    expect(cleaned.warnings.join()).to.match(/restored the Corefile saved before the first patch/);
    expect((await readState(api.kc)).corefile).to.equal(original);
  });

  it('says clearly that KubeDNS is not supported, and cleanup still succeeds', async () => {
    await seedCoreDns(api.kc, { corefile: '', kubeDns: true });
    try {
      await prepareCoreDns(api.kc, opts);
      expect.fail('prepare accepted KubeDNS');
    } catch (err) {
      expect(err).to.be.instanceOf(ClusterDnsError);
      expect((err as Error).message).to.match(/KubeDNS.*not support/);
    }
    expect(await cleanupCoreDns(api.kc)).to.deep.include({ changed: false });
  });
});
