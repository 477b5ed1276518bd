import { ApisApi, CoordinationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, PatchStrategy, setHeaderOptions, type V1Service } from '@kubernetes/client-node';
import { expect } from 'chai';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { apiServerPerTest } from '../../helpers/api-server-per-test.js';
import { statusOf } from './support.js';

const SPLIT_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'trafficsplits.split.smi-spec.io' },
  spec: {
    group: 'split.smi-spec.io',
    scope: 'Namespaced',
    names: { kind: 'TrafficSplit', plural: 'trafficsplits', singular: 'trafficsplit', listKind: 'TrafficSplitList' },
    versions: [
      { name: 'v1alpha4', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      { name: 'v1alpha2', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      { name: 'v1alpha1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  },
};

function service(name: string, port = 80): V1Service {
  return { metadata: { name, labels: { app: name } }, spec: { selector: { app: name }, ports: [{ port }] } };
}

describe('fake API server: reads and writes through client-node', () => {
  const api = apiServerPerTest();
  let core: CoreV1Api;

  beforeEach(() => {
    core = api.kc.makeApiClient(CoreV1Api);
  });

  it('serves discovery, including the versions a registered CRD serves', async () => {
    const kc = api.kc;
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    expect(names).to.include.members(['apps', 'discovery.k8s.io', 'coordination.k8s.io', 'networking.k8s.io', 'apiextensions.k8s.io']);
    expect(names).not.to.include('split.smi-spec.io');
    const core = await kc.makeApiClient(CoreV1Api).getAPIResources();
    expect(core.resources.map((r) => r.name)).to.include.members(['services', 'endpoints', 'pods', 'pods/status', 'namespaces', 'events', 'configmaps', 'secrets']);

    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: SPLIT_CRD });
    const after = await kc.makeApiClient(ApisApi).getAPIVersions();
    const split = after.groups.find((g) => g.name === 'split.smi-spec.io');
    expect(split?.versions.map((v) => v.version)).to.deep.equal(['v1alpha4', 'v1alpha2']);
    const res = await fetch(`${api.server.url}/apis/split.smi-spec.io/v1alpha2`);
    const list = (await res.json()) as { resources: { name: string; kind: string; namespaced: boolean }[] };
    expect(list.resources[0]).to.include({ name: 'trafficsplits', kind: 'TrafficSplit', namespaced: true });
    expect((await fetch(`${api.server.url}/apis/split.smi-spec.io/v1alpha1`)).status).to.equal(404);
  });

  it('stores custom objects of a served version and reads them through another', async () => {
    const custom = api.kc.makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: SPLIT_CRD });
    const body = { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'web' }, spec: { service: 'web', backends: [] } };
    const created = (await custom.createNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha4', namespace: 'default', plural: 'trafficsplits', body })) as { metadata: { generation: number } };
    expect(created.metadata.generation).to.equal(1);
    const read = (await custom.getNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha2', namespace: 'default', plural: 'trafficsplits', name: 'web' })) as { apiVersion: string };
    expect(read.apiVersion).to.equal('split.smi-spec.io/v1alpha2');
    const notServed = await statusOf(() => custom.listNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha1', namespace: 'default', plural: 'trafficsplits' }));
    expect(notServed.code).to.equal(404);
  });

  it('sets server fields and defaults on create, and answers 409 AlreadyExists', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: service('web') });
    expect(created.metadata?.uid).to.be.a('string');
    expect(created.metadata?.creationTimestamp).to.be.instanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).to.be.greaterThan(0);
    expect(created.spec?.clusterIP).to.match(/^10\.96\.\d+\.\d+$/);
    expect(created.spec?.ports?.[0]).to.include({ protocol: 'TCP', targetPort: 80 });
    expect(created.spec?.internalTrafficPolicy).to.equal('Cluster');
    const second = await core.createNamespacedService({ namespace: 'default', body: service('api') });
    expect(second.spec?.clusterIP).not.to.equal(created.spec?.clusterIP);
    expect(Number(second.metadata?.resourceVersion)).to.be.greaterThan(Number(created.metadata?.resourceVersion));
    const exists = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: service('web') }));
    expect(exists).to.include({ code: 409, reason: 'AlreadyExists', message: 'services "web" already exists' });
    const noNamespace = await statusOf(() => core.createNamespacedService({ namespace: 'nope', body: service('web') }));
    expect(noNamespace).to.include({ code: 404, reason: 'NotFound' });
  });

  it('rejects what the real server rejects with 422 Invalid Status objects', async () => {
    const outOfRange = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: service('web', 70000) }));
    expect(outOfRange).to.include({ code: 422, reason: 'Invalid' });
    expect(outOfRange.details?.causes?.[0]?.field).to.equal('spec.ports[0].port');
    const long = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: service('a'.repeat(64)) }));
    expect(long.code).to.equal(422);
    expect(long.message).to.contain('must be no more than 63 characters');
    const digit = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: service('1web') }));
    expect(digit.message).to.contain('DNS-1035 label');
    const noPorts = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'x' }, spec: {} } }));
    expect(noPorts.details?.causes?.map((c) => c.field)).to.include('spec.ports');

    const discovery = api.kc.makeApiClient(DiscoveryV1Api);
    const loopback = await statusOf(() => discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: { metadata: { name: 'web-1' }, addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ port: 80 }] },
    }));
    expect(loopback.code).to.equal(422);
    expect(loopback.message).to.contain('loopback');
    const noType = await statusOf(() => discovery.createNamespacedEndpointSlice({ namespace: 'default', body: { metadata: { name: 'web-2' }, endpoints: [] } as never }));
    expect(noType.details?.causes?.map((c) => c.field)).to.include('addressType');
    const pod = await statusOf(() => core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [] } } }));
    expect(pod.details?.causes?.map((c) => c.field)).to.include('spec.containers');
  });

  it('accepts loopback endpoint addresses only behind the test-only switch', async () => {
    const permissive = new FakeApiServer({ allowLoopbackEndpoints: true });
    await permissive.start();
    try {
      const discovery = kubeconfigFor(permissive).makeApiClient(DiscoveryV1Api);
      const slice = await discovery.createNamespacedEndpointSlice({
        namespace: 'default',
        body: { metadata: { name: 'web-1' }, addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ port: 80 }] },
      });
      expect(slice.endpoints?.[0]?.addresses).to.deep.equal(['127.0.0.1']);
      const linkLocal = await statusOf(() => discovery.createNamespacedEndpointSlice({
        namespace: 'default',
        body: { metadata: { name: 'web-2' }, addressType: 'IPv4', endpoints: [{ addresses: ['169.254.1.1'] }] },
      }));
      expect(linkLocal.code).to.equal(422);
    } finally {
      await permissive.stop();
    }
  });

  it('answers 409 Conflict to an update with a stale resourceVersion and keeps the clusterIP', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: service('web') });
    const fresh = { ...created, spec: { ...created.spec, clusterIP: undefined, clusterIPs: undefined, ports: [{ port: 81 }] } };
    const updated = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: fresh });
    expect(updated.spec?.clusterIP).to.equal(created.spec?.clusterIP);
    expect(updated.spec?.ports?.[0]?.port).to.equal(81);
    const stale = await statusOf(() => core.replaceNamespacedService({ name: 'web', namespace: 'default', body: created }));
    expect(stale).to.include({ code: 409, reason: 'Conflict' });
    const moved = await statusOf(() => core.replaceNamespacedService({ name: 'web', namespace: 'default', body: { ...updated, spec: { ...updated.spec, clusterIP: '10.96.200.1', clusterIPs: ['10.96.200.1'] } } }));
    expect(moved.code).to.equal(422);
  });

  it('drops the cluster IP of a Service turned ExternalName, and refuses one set on it', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: service('web') });
    // What kubectl edit sends: the whole object, cluster IP and families carried over.
    const external = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: { ...created, spec: { ...created.spec, type: 'ExternalName', externalName: 'example.org' } } });
    expect(external.spec).to.not.have.any.keys('clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy');
    const forbidden = await statusOf(() => core.replaceNamespacedService({ name: 'web', namespace: 'default', body: { ...external, spec: { ...external.spec, clusterIPs: ['10.96.200.1'] } } }));
    expect(forbidden.code).to.equal(422);
  });

  it('applies JSON patch, merge patch and strategic merge patch', async () => {
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 90 }] } } });
    const jsonPatched = await core.patchNamespacedService({ name: 'web', namespace: 'default', body: [{ op: 'add', path: '/metadata/labels', value: { a: '1' } }] });
    expect(jsonPatched.metadata?.labels).to.deep.equal({ a: '1' });
    const merged = await core.patchNamespacedService(
      { name: 'web', namespace: 'default', body: { metadata: { labels: { a: null, b: '2' } }, spec: { ports: [{ name: 'http', port: 8080 }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).to.deep.equal({ b: '2' });
    expect(merged.spec?.ports?.map((p) => p.port)).to.deep.equal([8080]);
    const strategic = await core.patchNamespacedService(
      { name: 'web', namespace: 'default', body: { spec: { ports: [{ name: 'http', port: 8080, targetPort: 9000 }, { name: 'metrics', port: 9100 }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.ports?.map((p) => [p.port, p.targetPort])).to.deep.equal([[8080, 9000], [9100, 9100]]);
    const failedTest = await statusOf(() => core.patchNamespacedService({ name: 'web', namespace: 'default', body: [{ op: 'test', path: '/metadata/labels/b', value: 'x' }] }));
    expect(failedTest.code).to.equal(422);
    const apply = await statusOf(() => core.patchNamespacedService({ name: 'web', namespace: 'default', body: {} }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply)));
    expect(apply.code).to.equal(415);
  });

  it('deletes with preconditions and returns 404 afterwards', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { a: 'b' } } });
    const wrongUid = await statusOf(() => core.deleteNamespacedConfigMap({ name: 'cfg', namespace: 'default', body: { preconditions: { uid: 'other' } } }));
    expect(wrongUid).to.include({ code: 409, reason: 'Conflict' });
    await core.deleteNamespacedConfigMap({ name: 'cfg', namespace: 'default', body: { preconditions: { uid: created.metadata!.uid!, resourceVersion: created.metadata!.resourceVersion! } } });
    expect((await statusOf(() => core.readNamespacedConfigMap({ name: 'cfg', namespace: 'default' }))).code).to.equal(404);
  });

  it('changes only status through the status subresource', async () => {
    const body = { metadata: { name: 'p', labels: { app: 'x' } }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox' }] }, status: { podIP: '10.0.0.9' } };
    const created = await core.createNamespacedPod({ namespace: 'default', body });
    expect(created.status?.podIP).to.equal(undefined);
    expect(created.status?.phase).to.equal('Pending');
    const withStatus = await core.replaceNamespacedPodStatus({ name: 'p', namespace: 'default', body: { ...created, metadata: { ...created.metadata, labels: { app: 'y' } }, status: { phase: 'Running', podIP: '10.0.0.9' } } });
    expect(withStatus.status?.podIP).to.equal('10.0.0.9');
    expect(withStatus.metadata?.labels).to.deep.equal({ app: 'x' });
    const viaMain = await core.replaceNamespacedPod({ name: 'p', namespace: 'default', body: { ...withStatus, status: { phase: 'Failed' } } });
    expect(viaMain.status?.phase).to.equal('Running');
  });

  it('lists with label and field selectors, limit and continue tokens', async () => {
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedPod({
        namespace: i < 3 ? 'default' : 'shop',
        body: { metadata: { name: `p${i}`, labels: { app: i % 2 === 0 ? 'even' : 'odd', ...(i === 4 ? { tier: 'x' } : {}) } }, spec: { nodeName: i < 2 ? 'node-a' : 'node-b', containers: [{ name: 'c', image: 'i' }] } },
      });
    }
    const names = (list: { items: { metadata?: { name?: string } }[] }): string[] => list.items.map((p) => p.metadata!.name!);
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-a' }))).to.deep.equal(['p0', 'p1']);
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=node-a,metadata.namespace==shop' }))).to.deep.equal(['p3', 'p4']);
    expect(names(await core.listPodForAllNamespaces({ labelSelector: 'app in (even),!tier' }))).to.deep.equal(['p0', 'p2']);
    expect(names(await core.listPodForAllNamespaces({ labelSelector: 'app notin (even)' }))).to.deep.equal(['p1', 'p3']);
    expect(names(await core.listPodForAllNamespaces({ labelSelector: 'tier,app==even' }))).to.deep.equal(['p4']);
    expect(names(await core.listPodForAllNamespaces({ labelSelector: 'app!=even' }))).to.deep.equal(['p1', 'p3']);
    expect((await statusOf(() => core.listPodForAllNamespaces({ fieldSelector: 'spec.hostname=x' }))).code).to.equal(400);

    const first = await core.listPodForAllNamespaces({ limit: 2 });
    expect(names(first)).to.deep.equal(['p0', 'p1']);
    expect(first.metadata?.remainingItemCount).to.equal(3);
    // A change between pages does not show up: the continued list is consistent with page one.
    await core.deleteNamespacedPod({ name: 'p2', namespace: 'default' });
    const second = await core.listPodForAllNamespaces({ limit: 2, _continue: first.metadata!._continue! });
    expect(names(second)).to.deep.equal(['p2', 'p3']);
    const third = await core.listPodForAllNamespaces({ limit: 2, _continue: second.metadata!._continue! });
    expect(names(third)).to.deep.equal(['p4']);
    expect(third.metadata?._continue).to.equal(undefined);
    api.server.compact();
    expect((await statusOf(() => core.listPodForAllNamespaces({ limit: 2, _continue: first.metadata!._continue! }))).code).to.equal(410);
  });

  it('serves Leases with optimistic concurrency', async () => {
    const coordination = api.kc.makeApiClient(CoordinationV1Api);
    const lease = await coordination.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    const taken = await coordination.replaceNamespacedLease({ name: 'leader', namespace: 'default', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } });
    expect(taken.spec?.holderIdentity).to.equal('b');
    const lost = await statusOf(() => coordination.replaceNamespacedLease({ name: 'leader', namespace: 'default', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } }));
    expect(lost.code).to.equal(409);
    const bad = await statusOf(() => coordination.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'x' }, spec: { leaseDurationSeconds: 0 } } }));
    expect(bad.code).to.equal(422);
    // client-node sends MicroTime fields as millisecond ISO strings, which the real server cannot decode.
    const millis = await statusOf(() => coordination.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'y' }, spec: { renewTime: new Date() } } }));
    expect(millis.code).to.equal(400);
  });

  it('keeps its data and port across stop and restart, and logs writes', async () => {
    await core.createNamespacedService({ namespace: 'default', body: service('web') });
    const port = api.server.port;
    await api.server.restart();
    expect(api.server.port).to.equal(port);
    const read = await core.readNamespacedService({ name: 'web', namespace: 'default' });
    expect(read.metadata?.name).to.equal('web');
    expect(api.server.writes().map((w) => `${w.method} ${w.path} ${w.status}`)).to.deep.equal(['POST /api/v1/namespaces/default/services 201']);
  });
});
