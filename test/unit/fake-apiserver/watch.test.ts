import { CoreV1Api, makeInformer, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { eventually } from './support.js';

interface WatchEvent {
  readonly type: string;
  readonly name: string | undefined;
  readonly resourceVersion: string | undefined;
  readonly code?: number;
}

/** Opens a client-node watch and records its events until the stream ends. */
async function recordWatch(server: FakeApiServer, path: string, query: Record<string, string | boolean>): Promise<{ events: WatchEvent[]; done: Promise<unknown>; abort: () => void }> {
  const events: WatchEvent[] = [];
  let finish: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  const controller = await new Watch(kubeconfigFor(server)).watch(path, query, (type, object: { metadata?: { name?: string; resourceVersion?: string }; code?: number }) => {
    events.push({ type, name: object.metadata?.name, resourceVersion: object.metadata?.resourceVersion, ...(object.code ? { code: object.code } : {}) });
  }, (err) => finish(err));
  return { events, done, abort: () => controller.abort() };
}

function configMap(name: string, labels: Record<string, string> = {}): V1ConfigMap {
  return { metadata: { name, labels }, data: { v: '1' } };
}

describe('fake API server: watch streams', () => {
  let server: FakeApiServer;
  let core: CoreV1Api;

  beforeEach(async () => {
    server = new FakeApiServer({ bookmarkIntervalMs: 50 });
    await server.start();
    core = kubeconfigFor(server).makeApiClient(CoreV1Api);
  });
  afterEach(async () => {
    await server.stop();
  });

  it('sends the current objects, then changes, then resumes from a resourceVersion', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
    const watch = await recordWatch(server, '/api/v1/namespaces/default/configmaps', {});
    await eventually(() => (watch.events.length === 1 ? true : undefined));
    const b = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('b') });
    await core.patchNamespacedConfigMap({ name: 'a', namespace: 'default', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await core.deleteNamespacedConfigMap({ name: 'b', namespace: 'default' });
    await eventually(() => (watch.events.length === 4 ? true : undefined));
    expect(watch.events.map((e) => `${e.type} ${e.name}`)).to.deep.equal(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b']);
    watch.abort();

    const resumed = await recordWatch(server, '/api/v1/namespaces/default/configmaps', { resourceVersion: b.metadata!.resourceVersion! });
    await eventually(() => (resumed.events.length === 2 ? true : undefined));
    expect(resumed.events.map((e) => `${e.type} ${e.name}`)).to.deep.equal(['MODIFIED a', 'DELETED b']);
    resumed.abort();
  });

  it('turns label changes into ADDED/DELETED for a selecting watch', async () => {
    const watch = await recordWatch(server, '/api/v1/configmaps', { labelSelector: 'mesh=yes' });
    await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
    await core.patchNamespacedConfigMap({ name: 'a', namespace: 'default', body: [{ op: 'add', path: '/metadata/labels/mesh', value: 'yes' }] });
    await core.patchNamespacedConfigMap({ name: 'a', namespace: 'default', body: [{ op: 'remove', path: '/metadata/labels/mesh' }] });
    await eventually(() => (watch.events.length === 2 ? true : undefined));
    expect(watch.events.map((e) => `${e.type} ${e.name}`)).to.deep.equal(['ADDED a', 'DELETED a']);
    watch.abort();
  });

  it('sends BOOKMARK events when asked, carrying a resumable resourceVersion', async () => {
    const watch = await recordWatch(server, '/api/v1/configmaps', { allowWatchBookmarks: true });
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
    const bookmark = await eventually(() => watch.events.find((e) => e.type === 'BOOKMARK' && Number(e.resourceVersion) >= Number(created.metadata!.resourceVersion)));
    expect(bookmark.name).to.equal(undefined);
    watch.abort();
  });

  it('answers a watch from a compacted resourceVersion with a 410 ERROR event and ends it', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
    await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('b') });
    server.compact();
    const watch = await recordWatch(server, '/api/v1/configmaps', { resourceVersion: created.metadata!.resourceVersion! });
    await watch.done;
    expect(watch.events).to.deep.equal([{ type: 'ERROR', name: undefined, resourceVersion: undefined, code: 410 }]);
  });

  it('ends watches with an error when broken, and on stop', async () => {
    const broken = await recordWatch(server, '/api/v1/configmaps', {});
    await eventually(() => (server.requests.some((r) => r.query.watch === 'true') ? true : undefined));
    server.breakWatches();
    expect(await broken.done).to.be.instanceOf(Error);
    const stopped = await recordWatch(server, '/api/v1/configmaps', {});
    await eventually(() => (server.requests.filter((r) => r.query.watch === 'true').length === 2 ? true : undefined));
    await server.stop();
    await stopped.done;
    await server.start();
  });

  it('feeds a client-node informer, which relists after a 410', async () => {
    const listFn = () => core.listNamespacedConfigMap({ namespace: 'default' });
    const informer = makeInformer(kubeconfigFor(server), '/api/v1/namespaces/default/configmaps', listFn);
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata!.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata!.name}`));
    await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('a') });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('b') });
      await eventually(() => (informer.list().length === 2 ? true : undefined));
      // While the informer is disconnected, b goes away and the history is compacted.
      await server.stop();
      await server.start();
      await core.deleteNamespacedConfigMap({ name: 'b', namespace: 'default' });
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('c') });
      server.compact();
      await eventually(() => (informer.list().map((o) => o.metadata!.name).sort().join() === 'a,c' ? true : undefined), 20_000, 'relist');
      expect(seen).to.include.members(['add a', 'add b', 'delete b', 'add c']);
    } finally {
      await informer.stop();
    }
  });
});
