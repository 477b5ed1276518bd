import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';
import { expect } from 'chai';
import { splitShadowServices } from '../../../src/cluster/shadow.js';
import type { ProviderStatus } from '../../../src/model/provider-status.js';
import type { Snapshot } from '../../../src/model/snapshot.js';
import { KubeProvider } from '../../../src/providers/kube-provider.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { eventually } from '../fake-apiserver/support.js';
import { endpointSlice, meshedService, smiCrd } from '../kube/fixtures.js';

function names(snapshot: Snapshot | undefined, kind: string): string[] {
  return (snapshot?.objects ?? [])
    .filter((o) => o.kind === kind)
    .map((o) => { const m = o.metadata as { namespace?: string; name: string }; return m.namespace ? `${m.namespace}/${m.name}` : m.name; })
    .sort();
}

describe('kube provider', () => {
  let server: FakeApiServer;
  let provider: KubeProvider | undefined;
  let updates: Snapshot[];
  let statuses: ProviderStatus[];
  const latest = (): Snapshot | undefined => updates[updates.length - 1];

  function startProvider(allPods = false, tuning: { requestTimeoutMs?: number; discoveryIntervalMs?: number } = {}): void {
    provider = new KubeProvider({
      kubeConfig: kubeconfigFor(server),
      nodeName: 'n1',
      allPods,
      onSnapshot: (u) => updates.push(u),
      onStatus: (s) => statuses.push(s),
      debounceMs: 20,
      backoff: { initialMs: 50, maxMs: 200 },
      discoveryIntervalMs: 100,
      ...tuning,
    });
    void provider.start();
  }

  beforeEach(async () => {
    server = new FakeApiServer({ bookmarkIntervalMs: 100, allowLoopbackEndpoints: true });
    await server.start();
    updates = [];
    statuses = [];
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'plexus' } } });
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  });
  afterEach(async () => {
    await provider?.stop();
    provider = undefined;
    await server.stop();
  });

  it('emits the watched kinds with their kind set, and the shadow Services apart', async () => {
    const kc = kubeconfigFor(server);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'web', [80]) as V1Service });
    await core.createNamespacedService({
      namespace: 'plexus',
      body: { metadata: { name: 'web--shop', labels: { 'app.kubernetes.io/managed-by': 'plexus' } }, spec: { ports: [{ port: 80, targetPort: 10000 }] } },
    });
    await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({ namespace: 'shop', body: endpointSlice('shop', 'web', 'web-1', ['127.0.0.1'], 8080) as unknown as V1EndpointSlice });
    await core.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'web-1' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } } });
    await core.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'web-2' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'i' }] } } });
    startProvider();
    await eventually(() => (names(latest(), 'Pod').length === 1 ? true : undefined));
    expect(names(latest(), 'Pod')).to.deep.equal(['shop/web-1']);
    // Only this node's Pods: the list and the watch both carry the field selector.
    const podRequests = server.requests.filter((r) => r.path === '/api/v1/pods');
    expect(podRequests.some((r) => r.query.watch === 'true')).to.equal(true);
    expect(podRequests.map((r) => r.query.fieldSelector)).to.satisfy((s: unknown[]) => s.length >= 2 && s.every((f) => f === 'spec.nodeName=n1'));
    // The shadow Service is among the objects; the Kubernetes runner splits it off (cluster/shadow.ts).
    expect(names(latest(), 'Service')).to.deep.equal(['plexus/web--shop', 'shop/web']);
    const { user, shadows } = splitShadowServices(latest()!.objects, 'plexus');
    expect(names({ objects: user }, 'Service')).to.deep.equal(['shop/web']);
    expect(names(latest(), 'EndpointSlice')).to.deep.equal(['shop/web-1']);
    expect(names(latest(), 'Namespace')).to.include.members(['default', 'plexus', 'shop']);
    expect(shadows.map((s) => (s.metadata as { name: string }).name)).to.deep.equal(['web--shop']);
    expect(latest()!.objects.find((o) => o.kind === 'Service')!.apiVersion).to.equal('v1');
  });

  it('watches the Pods of every node in ACL mode (destination ServiceAccounts)', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    for (const [name, node] of [['web-1', 'n1'], ['web-2', 'n2']]) {
      await core.createNamespacedPod({ namespace: 'shop', body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] } } });
    }
    startProvider(true);
    await eventually(() => (names(latest(), 'Pod').length === 2 ? true : undefined));
    expect(server.requests.filter((r) => r.path === '/api/v1/pods').every((r) => r.query.fieldSelector === undefined)).to.equal(true);
  });

  it('reports missing SMI kinds as a condition, picks a CRD up once installed, and drops it once deleted', async () => {
    startProvider();
    const status = await eventually(() => statuses.find((s) => s.message.includes('TrafficSplit')));
    expect(status.healthy).to.equal(true);
    expect(status.message).to.contain('split.smi-spec.io');
    const custom = kubeconfigFor(server).makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: smiCrd('TrafficSplit') });
    await custom.createNamespacedCustomObject({
      group: 'split.smi-spec.io', version: 'v1alpha2', namespace: 'shop', plural: 'trafficsplits',
      body: { apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 'web' }, spec: { service: 'web', backends: [] } },
    });
    await eventually(() => (names(latest(), 'TrafficSplit').length === 1 ? true : undefined));
    const split = latest()!.objects.find((o) => o.kind === 'TrafficSplit')!;
    expect(split.apiVersion).to.equal('split.smi-spec.io/v1alpha4');
    await eventually(() => (statuses[statuses.length - 1]!.message.includes('TrafficSplit') ? undefined : true));
    // Deleted again: its objects leave the snapshot and the condition returns, still healthy.
    await custom.deleteClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: 'trafficsplits.split.smi-spec.io' });
    await eventually(() => (names(latest(), 'TrafficSplit').length === 0 ? true : undefined));
    await eventually(() => {
      const last = statuses[statuses.length - 1]!;
      return last.healthy && last.message.includes('split.smi-spec.io') ? true : undefined;
    });
  });

  it('keeps unchanged objects as the same references', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'web', [80]) as V1Service });
    startProvider();
    await eventually(() => (names(latest(), 'Service').length === 1 ? true : undefined));
    const before = latest()!.objects.find((o) => o.kind === 'Service');
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'api', [80]) as V1Service });
    await eventually(() => (names(latest(), 'Service').length === 2 ? true : undefined));
    const after = latest()!.objects.find((o) => o.kind === 'Service' && (o.metadata as { name: string }).name === 'web');
    expect(after).to.equal(before);
    // A relist (after a 410) also keeps it.
    server.compact();
    server.breakWatches();
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'db', [5432]) as V1Service });
    await eventually(() => (names(latest(), 'Service').length === 3 ? true : undefined));
    expect(latest()!.objects.find((o) => o.kind === 'Service' && (o.metadata as { name: string }).name === 'web')).to.equal(before);
  });

  it('keeps the last state while the server is down, reports it, and converges after a restart', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'web', [80]) as V1Service });
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'api', [80]) as V1Service });
    startProvider();
    await eventually(() => (names(latest(), 'Service').length === 2 ? true : undefined));
    await server.stop();
    await eventually(() => statuses.find((s) => !s.healthy));
    expect(names(latest(), 'Service')).to.deep.equal(['shop/api', 'shop/web']);
    // Changes made while the agent could not watch (and the history compacted) are not lost.
    await server.start();
    await core.deleteNamespacedService({ name: 'api', namespace: 'shop' });
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'db', [5432]) as V1Service });
    server.compact();
    await eventually(() => (names(latest(), 'Service').join() === 'shop/db,shop/web' ? true : undefined), 60_000, 'convergence');
    await eventually(() => (statuses[statuses.length - 1]!.healthy ? true : undefined));
  });

  it('resumes a watch cut mid-stream without reporting the API server unhealthy; names the cause when it is', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    startProvider();
    await eventually(() => (updates.length > 0 ? true : undefined));
    // Let the watches serve past the "ended at once" threshold (a server that ends watches at once is a failure).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server.breakWatches();
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'web', [80]) as V1Service });
    await eventually(() => (names(latest(), 'Service').length === 1 ? true : undefined));
    expect(statuses.filter((s) => !s.healthy), 'a cut stream is resumed, not a failure').to.deep.equal([]);
    await server.stop();
    // A request in flight when the server went may fail first with the connection cut ("other
    // side closed"): the state meant is the server refusing connections, named as such.
    const down = await eventually(() => statuses.find((s) => !s.healthy && /ECONNREFUSED/.test(s.message)));
    // undici says "fetch failed"; the cause is what tells the user why.
    expect(down.message).to.match(/ECONNREFUSED 127\.0\.0\.1:\d+/);
  });

  it('reports a hung API server (connections accepted, nothing answered) and converges once it answers', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    // Discovery (which would time out too) waits: the watches alone must notice.
    startProvider(false, { requestTimeoutMs: 500, discoveryIntervalMs: 60_000 });
    await eventually(() => (updates.length > 0 ? true : undefined));
    server.freeze();
    // Quiet watches end (inactivity) and are re-opened; a re-opened watch never answered is a failure.
    const down = await eventually(() => statuses.find((s) => !s.healthy), 60_000, 'an unhealthy status');
    expect(down.message).to.contain('no answer from the API server within 0.5 s');
    server.thaw();
    await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', 'web', [80]) as V1Service });
    await eventually(() => (names(latest(), 'Service').length === 1 ? true : undefined), 60_000, 'convergence');
    await eventually(() => (statuses[statuses.length - 1]!.healthy ? true : undefined), 60_000, 'healthy again');
  });

  it('follows changes across broken watches', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    startProvider();
    await eventually(() => (updates.length > 0 ? true : undefined));
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedService({ namespace: 'shop', body: meshedService('shop', `s${i}`, [80]) as V1Service });
      server.breakWatches();
    }
    await eventually(() => (names(latest(), 'Service').length === 5 ? true : undefined));
  });
});
