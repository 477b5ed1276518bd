import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { expect } from 'chai';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { apiServerPerTest } from '../../helpers/api-server-per-test.js';
import { statusOf } from './support.js';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'trafficsplits.split.smi-spec.io' },
  spec: {
    group: 'split.smi-spec.io', scope: 'Namespaced', names: { kind: 'TrafficSplit', plural: 'trafficsplits' },
    versions: [{ name: 'v1alpha4', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

/** A raw request (for bodies and query parameters client-node's typed API would not send). */
async function raw(server: FakeApiServer, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; body: { reason?: string; message?: string; code?: number; metadata?: { remainingItemCount?: number }; details?: { causes?: { field?: string; reason: string }[] } } }> {
  const res = await fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': contentType } }) });
  return { code: res.status, body: (await res.json()) as never };
}

describe('fake API server: what the real server rejects or does differently', () => {
  const api = apiServerPerTest();
  let core: CoreV1Api;

  beforeEach(() => {
    core = api.kc.makeApiClient(CoreV1Api);
  });

  it('validates Service ports like ValidateService: duplicates, target port names, ExternalName ports', async () => {
    const duplicate = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] } } }));
    expect(duplicate).to.include({ code: 422, reason: 'Invalid' });
    expect(duplicate.details?.causes?.map((c) => c.field)).to.deep.equal(['spec.ports[1]']);
    // The same number on another protocol is a different port.
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'dns' }, spec: { ports: [{ name: 'tcp', port: 53 }, { name: 'udp', port: 53, protocol: 'UDP' }] } } });
    const unnamed = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'two' }, spec: { ports: [{ port: 80 }, { name: 'b', port: 81 }] } } }));
    expect(unnamed.details?.causes?.map((c) => c.field)).to.deep.equal(['spec.ports[0].name']);
    for (const targetPort of ['a--b', 'http-', 'toolongportname16', '8080', 70000]) {
      const bad = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'tp' }, spec: { ports: [{ port: 80, targetPort }] } } }));
      expect(bad.details?.causes?.map((c) => c.field), String(targetPort)).to.deep.equal(['spec.ports[0].targetPort']);
    }
    const defaulted = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'zero' }, spec: { ports: [{ port: 8080, targetPort: 0 }] } } });
    expect(defaulted.spec?.ports?.[0]?.targetPort).to.equal(8080);
    const external = await statusOf(() => core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 0 }] } } }));
    // Port 0 is invalid, and so is the targetPort defaulted from it, as on the real server.
    expect(external.details?.causes?.map((c) => c.field)).to.deep.equal(['spec.ports[0].port', 'spec.ports[0].targetPort']);
  });

  it('validates label keys and values and annotation keys on every kind', async () => {
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ 'plexus.dev/shadow-of': 'shop/web' }, {}],
      [{ app: 'x'.repeat(64) }, {}],
      [{ ['k'.repeat(64)]: 'v' }, {}],
      [{ 'Bad_Prefix/app': 'v' }, {}],
      [{}, { 'a/b/c': 'v' }],
    ];
    for (const [labels, annotations] of cases) {
      const bad = await statusOf(() => core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm', labels, annotations } } }));
      expect(bad, JSON.stringify([labels, annotations])).to.include({ code: 422, reason: 'Invalid' });
      expect(bad.details?.causes?.[0]?.field).to.match(/^metadata\.(labels|annotations)$/);
    }
    const ok = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm', labels: { 'app.kubernetes.io/name': 'My_App.1', empty: '' }, annotations: { 'plexus.dev/shadow-of-name': 'anything / goes here' } } } });
    expect(ok.metadata?.labels).to.deep.equal({ 'app.kubernetes.io/name': 'My_App.1', empty: '' });
    const notString = await raw(api.server, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'n', labels: { a: 1 } } });
    expect(notString.code).to.equal(400);
  });

  it('applies the core/v1 Event namespace rules instead of requiring involvedObject', async () => {
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    const event = (namespace: string, involved: Record<string, string>) => ({ metadata: { name: `e${Object.keys(involved).length}`, namespace }, involvedObject: involved, reason: 'R', message: 'm' });
    // A cluster-scoped object's Event lives in default.
    await core.createNamespacedEvent({ namespace: 'default', body: event('default', { kind: 'Namespace', name: 'shop' }) });
    const elsewhere = await statusOf(() => core.createNamespacedEvent({ namespace: 'shop', body: event('shop', { kind: 'Namespace', name: 'shop' }) }));
    expect(elsewhere.details?.causes?.map((c) => c.field)).to.deep.equal(['involvedObject.namespace']);
    const mismatch = await statusOf(() => core.createNamespacedEvent({ namespace: 'default', body: event('default', { kind: 'Service', name: 'web', namespace: 'shop' }) }));
    expect(mismatch.code).to.equal(422);
    await core.createNamespacedEvent({ namespace: 'shop', body: event('shop', { kind: 'Service', name: 'web', namespace: 'shop' }) });
  });

  it('refuses a Lease or custom resource PUT without resourceVersion, decodes Lease field types', async () => {
    const coordination = api.kc.makeApiClient(CoordinationV1Api);
    const lease = await coordination.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    const unconditional = await statusOf(() => coordination.replaceNamespacedLease({ name: 'l', namespace: 'default', body: { metadata: { name: 'l' }, spec: { holderIdentity: 'b' } } }));
    expect(unconditional).to.include({ code: 422, reason: 'Invalid', message: 'leases.coordination.k8s.io "l" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update' });
    // A ConfigMap may be updated unconditionally.
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm' } } });
    await core.replaceNamespacedConfigMap({ name: 'cm', namespace: 'default', body: { metadata: { name: 'cm' }, data: { a: 'b' } } });
    const custom = api.kc.makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', body: CRD });
    const ts = { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'ts' }, spec: { service: 'web' } };
    await custom.createNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha4', namespace: 'default', plural: 'trafficsplits', body: ts });
    const cr = await statusOf(() => custom.replaceNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha4', namespace: 'default', plural: 'trafficsplits', name: 'ts', body: ts }));
    expect(cr.code).to.equal(422);
    const smp = await statusOf(() => custom.patchNamespacedCustomObject({ group: 'split.smi-spec.io', version: 'v1alpha4', namespace: 'default', plural: 'trafficsplits', name: 'ts', body: { spec: { service: 'api' } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)));
    expect(smp.code).to.equal(415);
    const path = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    expect((await raw(api.server, 'POST', path, { metadata: { name: 's' }, spec: { leaseDurationSeconds: '15' } })).code).to.equal(400);
    expect((await raw(api.server, 'POST', path, { metadata: { name: 's' }, spec: { holderIdentity: 7 } })).code).to.equal(400);
    expect((await raw(api.server, 'POST', path, { metadata: { name: 's' }, spec: { leaseTransitions: -1 } })).code).to.equal(422);
    expect(lease.metadata?.generation).to.equal(undefined);
  });

  it('checks list options like ValidateListOptions and the storage layer', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a', labels: { x: '1' } } } });
    const b = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'b', labels: { x: '1' } } } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c', labels: { x: '1' } } } });
    const list = '/api/v1/namespaces/default/configmaps';
    expect((await raw(api.server, 'GET', `${list}?resourceVersionMatch=Exact`)).body).to.include({ code: 422, reason: 'Invalid' });
    expect((await raw(api.server, 'GET', `${list}?resourceVersionMatch=Exact&resourceVersion=0`)).code).to.equal(422);
    const tooLarge = await raw(api.server, 'GET', `${list}?resourceVersion=999999`);
    expect(tooLarge.body).to.include({ code: 504, reason: 'Timeout' });
    expect(tooLarge.body.details?.causes?.[0]?.reason).to.equal('ResourceVersionTooLarge');
    // Exact reads the past; compacted, it is 410 Expired.
    const exact = await core.listNamespacedConfigMap({ namespace: 'default', resourceVersion: b.metadata!.resourceVersion!, resourceVersionMatch: 'Exact' });
    expect(exact.items.map((i) => i.metadata?.name)).to.deep.equal(['a', 'b']);
    const page = await core.listNamespacedConfigMap({ namespace: 'default', limit: 1 });
    expect(page.metadata?.remainingItemCount).to.equal(2);
    const filtered = await core.listNamespacedConfigMap({ namespace: 'default', limit: 1, labelSelector: 'x=1' });
    expect(filtered.metadata?._continue).to.be.a('string');
    expect(filtered.metadata?.remainingItemCount).to.equal(undefined);
    const withVersion = await raw(api.server, 'GET', `${list}?limit=1&continue=${page.metadata!._continue!}&resourceVersion=${b.metadata!.resourceVersion!}`);
    expect(withVersion.code).to.equal(400);
    // The real server does not tie a continue token to the selectors: the next page uses the new one.
    const changed = await core.listNamespacedConfigMap({ namespace: 'default', limit: 5, _continue: page.metadata!._continue!, labelSelector: 'x=2' });
    expect(changed.items).to.deep.equal([]);
    api.server.compact();
    const expired = await statusOf(() => core.listNamespacedConfigMap({ namespace: 'default', resourceVersion: b.metadata!.resourceVersion!, resourceVersionMatch: 'Exact' }));
    expect(expired).to.include({ code: 410, reason: 'Expired' });
    expect((await raw(api.server, 'GET', `${list}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=0`)).code).to.equal(422);
  });

  it('tracks EndpointSlice generation through spec and label changes, not annotations', async () => {
    const discovery = api.kc.makeApiClient(DiscoveryV1Api);
    const slice = await discovery.createNamespacedEndpointSlice({ namespace: 'default', body: { metadata: { name: 's' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }] } });
    expect(slice.metadata?.generation).to.equal(1);
    const annotated = await discovery.patchNamespacedEndpointSlice({ name: 's', namespace: 'default', body: { metadata: { annotations: { a: 'b' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(annotated.metadata?.generation).to.equal(1);
    const labelled = await discovery.patchNamespacedEndpointSlice({ name: 's', namespace: 'default', body: { metadata: { labels: { a: 'b' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(labelled.metadata?.generation).to.equal(2);
    const moved = await discovery.patchNamespacedEndpointSlice({ name: 's', namespace: 'default', body: { endpoints: [{ addresses: ['10.0.0.2'] }] } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(moved.metadata?.generation).to.equal(3);
    const service = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
    expect(service.metadata?.generation).to.equal(undefined);
  });
});
