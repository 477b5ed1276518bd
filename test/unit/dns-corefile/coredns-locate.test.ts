import { expect } from 'chai';
import type { V1Deployment } from '@kubernetes/client-node';
import { locateClusterDns } from '../../../src/dns/coredns-locate.js';
import { clusterDomainOf, importsServerFiles } from '../../../src/dns/corefile-inspect.js';

function coredns(name: string, options: { args?: string[]; mountPath?: string; configMap?: string; items?: Array<{ key: string; path: string }>; custom?: boolean } = {}): V1Deployment {
  return {
    metadata: { name, namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      template: {
        spec: {
          containers: [
            {
              name: 'coredns',
              image: 'rancher/mirrored-coredns-coredns:1.10.1',
              ...(options.args ? { args: options.args } : {}),
              volumeMounts: [
                { name: 'config-volume', mountPath: options.mountPath ?? '/etc/coredns' },
                ...(options.custom ? [{ name: 'custom', mountPath: '/etc/coredns/custom' }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'config-volume', configMap: { name: options.configMap ?? 'coredns', ...(options.items ? { items: options.items } : {}) } },
            ...(options.custom ? [{ name: 'custom', configMap: { name: 'coredns-custom', optional: true } }] : []),
          ],
        },
      },
    },
  };
}

describe('locateClusterDns', () => {
  it('follows -conf and the volume mounted there to the ConfigMap and key', () => {
    const rke2 = coredns('rke2-coredns-rke2-coredns', { args: ['-conf', '/etc/coredns/Corefile'], configMap: 'rke2-coredns-rke2-coredns', items: [{ key: 'Corefile', path: 'Corefile' }] });
    expect(locateClusterDns([rke2])).to.deep.equal({
      kind: 'coredns', deployment: 'rke2-coredns-rke2-coredns', image: 'rancher/mirrored-coredns-coredns:1.10.1', configMap: 'rke2-coredns-rke2-coredns', corefileKey: 'Corefile',
      container: 'coredns', ownNamesMounted: false,
    });
    const renamed = coredns('coredns', { args: ['-conf=/config/dns.conf'], mountPath: '/config', items: [{ key: 'Corefile', path: 'dns.conf' }] });
    expect(locateClusterDns([renamed])).to.deep.include({ configMap: 'coredns', corefileKey: 'Corefile' });
  });

  it('notices coredns-custom (AKS, k3s)', () => {
    expect(locateClusterDns([coredns('coredns', { custom: true })])).to.deep.include({ customConfigMap: 'coredns-custom' });
  });

  it('prefers the Deployment named coredns among several, and refuses to guess otherwise', () => {
    expect(locateClusterDns([coredns('dns-a'), coredns('coredns')])).to.deep.include({ deployment: 'coredns' });
    expect(locateClusterDns([coredns('dns-a'), coredns('dns-b')])).to.deep.include({ kind: 'unknown' });
  });

  it('recognises KubeDNS, and an absent cluster DNS', () => {
    const kubeDns: V1Deployment = { metadata: { name: 'kube-dns' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'kubedns', image: 'k8s.gcr.io/k8s-dns-kube-dns-amd64:1.14.7' }] } } } };
    expect(locateClusterDns([kubeDns])).to.deep.equal({ kind: 'kube-dns', deployment: 'kube-dns' });
    expect(locateClusterDns([])).to.deep.include({ kind: 'unknown' });
  });

  it('reports a Corefile path no ConfigMap is mounted at', () => {
    expect(locateClusterDns([coredns('coredns', { args: ['-conf', '/elsewhere/Corefile'] })])).to.deep.include({ kind: 'unknown' });
  });
});

describe('Corefile facts', () => {
  it('reads the cluster domain from the kubernetes plugin', () => {
    expect(clusterDomainOf('.:53 {\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n  }\n}\n')).to.equal('cluster.local');
    expect(clusterDomainOf('.:53 {\n  kubernetes in-addr.arpa k8s.example. {\n  }\n}\n')).to.equal('k8s.example');
    expect(clusterDomainOf('.:53 {\n  forward . 1.1.1.1\n}\n')).to.equal(null);
  });

  it('knows whether *.server files are imported at the top level', () => {
    expect(importsServerFiles('.:53 {\n  import custom/*.override\n}\nimport custom/*.server\n')).to.equal(true);
    expect(importsServerFiles('.:53 {\n  import custom/*.server\n}\n')).to.equal(false);
  });
});
