import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { pino } from 'pino';
import { DnsKeeper } from '../../../src/cluster/dns-keeper.js';
import { Compiler } from '../../../src/routing/compile.js';
import { DEFAULT_LISTENER_PORTS } from '../../../src/routing/compile-options.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { meshedService } from '../kube/fixtures.js';

const COREFILE = `.:53 {
    errors
    health
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
`;

describe('DNS keeper (leader keeps the CoreDNS block current)', () => {
  let server: FakeApiServer;

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    const kc = kubeconfigFor(server);
    await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'coredns' }, data: { Corefile: COREFILE } } });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'coredns', labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          template: {
            metadata: { labels: { 'k8s-app': 'kube-dns' } },
            spec: {
              containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.1', args: ['-conf', '/etc/coredns/Corefile'], volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns' }] }],
              volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
            },
          },
        },
      },
    });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('writes the mesh block once and leaves a current block alone', async () => {
    const config = new Compiler().compile({ objects: [meshedService('shop', 'web', [80])] }, { nodeName: 'n1', meshDomain: 'plexus', listenerPorts: DEFAULT_LISTENER_PORTS });
    const keeper = new DnsKeeper({ kubeConfig: kubeconfigFor(server), namespace: 'plexus', meshDomain: 'plexus', logger: pino({ level: 'silent' }) });
    await keeper.keep(config);
    const cm = await kubeconfigFor(server).makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' });
    expect(cm.data?.Corefile).to.contain('# BEGIN plexus mesh-domain=plexus');
    const writes = server.writes().length;
    keeper.reset();
    await keeper.keep(config);
    expect(server.writes().length).to.equal(writes);
  });
});
