import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ApiClient } from '../../../src/kube/api-client.js';
import { EventRecorder } from '../../../src/cluster/events.js';
import { allocationFromShadowServices, desiredShadowServices, planShadowServices, ShadowServiceWriter } from '../../../src/cluster/shadow.js';
import { Compiler } from '../../../src/routing/compile.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import { problem } from '../../../src/model/problem.js';
import { DEFAULT_LISTENER_PORTS } from '../../../src/routing/compile-options.js';
import { type RawObject } from '../../../src/model/snapshot.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { meshedService } from '../kube/fixtures.js';

function compile(objects: readonly RawObject[], previous?: MeshConfig['allocation']): MeshConfig {
  return new Compiler().compile({ objects }, { nodeName: 'n1', meshDomain: 'plexus', listenerPorts: DEFAULT_LISTENER_PORTS, ...(previous ? { previous } : {}) });
}

const LONG_NAMESPACE = 'a-namespace-with-a-rather-long-name-for-testing';
const LONG_NAME = 'a-service-whose-name-is-long-enough-to-overflow-a-label';

describe('shadow Services: planning', () => {
  it('plans one valid shadow per meshed Service, even for long names', () => {
    const config = compile([meshedService('shop', 'web', [80, 443]), meshedService(LONG_NAMESPACE, LONG_NAME, [8080])]);
    const desired = desiredShadowServices(config, 'plexus');
    expect(desired).to.have.length(2);
    for (const shadow of desired) {
      expect(shadow.metadata.name.length).to.be.at.most(63);
      expect(shadow.metadata.name).to.match(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(shadow.metadata.namespace).to.equal('plexus');
      expect(shadow.metadata.labels).to.deep.equal({
        'app.kubernetes.io/managed-by': 'plexus',
        'plexus.dev/shadow-of-namespace': shadow.metadata.annotations['plexus.dev/shadow-of-namespace'],
        'plexus.dev/shadow-of-name': shadow.metadata.annotations['plexus.dev/shadow-of-name'],
      });
      expect(shadow.spec.internalTrafficPolicy).to.equal('Local');
    }
    const web = desired.find((s) => s.metadata.annotations['plexus.dev/shadow-of-name'] === 'web')!;
    expect(web.metadata.annotations['plexus.dev/shadow-of-namespace']).to.equal('shop');
    const listeners = config.services.find((s) => s.name === 'web')!.ports.map((p) => p.listenerPort);
    expect(web.spec.ports.map((p) => [p.port, p.targetPort])).to.deep.equal([[80, listeners[0]], [443, listeners[1]]]);
  });

  it('skips headless and ExternalName Services', () => {
    const headless = { ...meshedService('shop', 'db', [5432]), spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } };
    const external = { ...meshedService('shop', 'ext', [80]), spec: { type: 'ExternalName', externalName: 'example.com' } };
    expect(desiredShadowServices(compile([headless, external]), 'plexus')).to.deep.equal([]);
  });

  it('reads the allocation back from shadow Services, so ports never move', () => {
    const first = compile([meshedService('shop', 'web', [80]), meshedService('shop', 'zeta', [80])]);
    const shadows = desiredShadowServices(first, 'plexus') as unknown as RawObject[];
    const allocation = allocationFromShadowServices(shadows);
    expect(allocation.ports).to.deep.equal(first.allocation.ports);
    // A new Service sorting first must not take the others' ports when compiled from the shadows.
    const second = compile([meshedService('shop', 'api', [80]), meshedService('shop', 'web', [80]), meshedService('shop', 'zeta', [80])], allocation);
    for (const [key, port] of Object.entries(first.allocation.ports)) expect(second.allocation.ports[key]).to.equal(port);
    const plan = planShadowServices(second, shadows, 'plexus');
    expect(plan.create.map((s) => s.metadata.name)).to.deep.equal(['api--shop']);
    expect(plan.update).to.deep.equal([]);
    expect(plan.delete).to.deep.equal([]);
  });

  it('updates a shadow whose original changed and deletes orphans', () => {
    const first = compile([meshedService('shop', 'web', [80]), meshedService('shop', 'old', [80])]);
    const shadows = desiredShadowServices(first, 'plexus') as unknown as RawObject[];
    const second = compile([meshedService('shop', 'web', [80, 81])], allocationFromShadowServices(shadows));
    const plan = planShadowServices(second, shadows, 'plexus');
    expect(plan.create).to.deep.equal([]);
    expect(plan.update.map((u) => u.desired.spec.ports.map((p) => p.port))).to.deep.equal([[80, 81]]);
    expect(plan.delete.map((s) => (s.metadata as { name: string }).name)).to.deep.equal(['old--shop']);
  });
});

describe('shadow Services and Events: writing', () => {
  let server: FakeApiServer;
  let client: ApiClient;

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    client = new ApiClient(kubeconfigFor(server));
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    for (const name of ['plexus', 'shop', LONG_NAMESPACE]) await core.createNamespace({ body: { metadata: { name } } });
  });
  afterEach(async () => {
    await server.stop();
  });

  async function shadows(): Promise<RawObject[]> {
    const list = (await client.get('/api/v1/namespaces/plexus/services', { labelSelector: 'app.kubernetes.io/managed-by=plexus' })) as { items: RawObject[] };
    return list.items;
  }

  it('creates, updates and deletes shadow Services the real server accepts', async () => {
    const writer = new ShadowServiceWriter(client, 'plexus');
    const first = compile([meshedService('shop', 'web', [80]), meshedService(LONG_NAMESPACE, LONG_NAME, [8080])]);
    expect(await writer.apply(planShadowServices(first, await shadows(), 'plexus'))).to.deep.equal([]);
    const created = await shadows();
    expect(created).to.have.length(2);
    expect(allocationFromShadowServices(created).ports).to.deep.equal(first.allocation.ports);
    const web = created.find((s) => (s.metadata as { name: string }).name === 'web--shop')!;
    expect((web.spec as { clusterIP: string }).clusterIP).to.match(/^10\./);

    const second = compile([meshedService('shop', 'web', [80, 81])], allocationFromShadowServices(created));
    expect(await writer.apply(planShadowServices(second, created, 'plexus'))).to.deep.equal([]);
    const after = await shadows();
    expect(after.map((s) => (s.metadata as { name: string }).name)).to.deep.equal(['web--shop']);
    const ports = (after[0]!.spec as { ports: { port: number; targetPort: number }[] }).ports;
    expect(ports.map((p) => p.port)).to.deep.equal([80, 81]);
    expect(ports[0]!.targetPort).to.equal(first.allocation.ports['shop/web:80/TCP']);
    // Re-applying the same plan against the new state changes nothing.
    const writes = server.writes().length;
    expect(await writer.apply(planShadowServices(second, after, 'plexus'))).to.deep.equal([]);
    expect(server.writes().length).to.equal(writes);
  });

  it('reports a name taken by a Service Plexus does not manage', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: 'plexus', body: { metadata: { name: 'web--shop' }, spec: { ports: [{ port: 1 }] } } });
    const failures = await new ShadowServiceWriter(client, 'plexus').apply(planShadowServices(compile([meshedService('shop', 'web', [80])]), [], 'plexus'));
    expect(failures).to.have.length(1);
    expect(failures[0]!.service).to.deep.equal({ namespace: 'shop', name: 'web' });
    expect(failures[0]!.message).to.contain('does not manage');
  });

  it('records one Event per object and message, bumping its count only when the problem comes back', async () => {
    const core = kubeconfigFor(server).makeApiClient(CoreV1Api);
    const web = await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
    const objects: RawObject[] = [{ ...web, apiVersion: 'v1', kind: 'Service' } as unknown as RawObject];
    const p = problem({ kind: 'Service', namespace: 'shop', name: 'web' }, 'plexus.dev/timeout: "soon" is not a duration');
    type Listed = { count: number; message: string; involvedObject: { name: string; uid?: string; apiVersion?: string } };
    const events = async (): Promise<Listed[]> => ((await client.get('/api/v1/namespaces/shop/events')) as { items: Listed[] }).items;
    const recorder = new EventRecorder(client, 'n1');
    await recorder.report([p], objects);
    await recorder.report([p], objects);
    expect((await events()).map((e) => e.count)).to.deep.equal([1]);
    // kubectl describe selects Events by involvedObject.uid: it must be there.
    const byUid = (await client.get('/api/v1/namespaces/shop/events', { fieldSelector: `involvedObject.uid=${web.metadata!.uid!}` })) as { items: Listed[] };
    expect(byUid.items).to.have.length(1);
    expect(byUid.items[0]!.involvedObject).to.deep.include({ name: 'web', apiVersion: 'v1', uid: web.metadata!.uid });
    await recorder.report([], objects);
    await recorder.report([p], objects);
    expect((await events()).map((e) => e.count)).to.deep.equal([2]);
    // A new leader finding the Event of a standing problem writes nothing.
    const applied = (): number => server.writes().filter((w) => w.status < 300).length;
    const writes = server.writes().length;
    await new EventRecorder(client, 'n2').report([p], objects);
    // Not even a create answered 409: it lists the Plexus Events once and finds it there.
    expect(server.writes().length).to.equal(writes);
    expect(applied()).to.be.greaterThan(0);
    const list = await events();
    expect(list).to.have.length(1);
    expect(list[0]).to.deep.include({ count: 2, message: p.message });
    // The Service deleted and re-created is another object: its problem is a new Event.
    await core.deleteNamespacedService({ namespace: 'shop', name: 'web' });
    const again = await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
    await recorder.report([p], [{ ...again, apiVersion: 'v1', kind: 'Service' } as unknown as RawObject]);
    expect((await events()).map((e) => e.involvedObject.uid).sort()).to.deep.equal([web.metadata!.uid, again.metadata!.uid].sort());
  });
});
