import { expect } from 'chai';
import { ApiClient } from '../../../src/kube/api-client.js';
import { LIST_PAGE_SIZE, Reflector } from '../../../src/kube/reflector.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { storageKey } from '../../fake-apiserver/resources.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { eventually } from '../fake-apiserver/support.js';

describe('reflector (list+watch loop)', () => {
  let server: FakeApiServer;

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('lists in pages, then follows the watch', async () => {
    const count = LIST_PAGE_SIZE * 2 + 3;
    for (let i = 0; i < count; i++) {
      server.store.put(storageKey('', 'configmaps'), { metadata: { name: `cm-${i}`, namespace: 'default' }, data: {} });
    }
    const errors: (Error | null)[] = [];
    const reflector = new Reflector(new ApiClient(kubeconfigFor(server)), { path: '/api/v1/configmaps', apiVersion: 'v1', kind: 'ConfigMap' }, {
      onChange: () => undefined,
      onHealth: (error) => errors.push(error),
    }, { initialMs: 50, maxMs: 100 });
    const signal = new AbortController();
    const running = reflector.run(signal.signal);
    try {
      await eventually(() => (reflector.synced ? true : undefined));
      const objects = [...reflector.objects()];
      expect(objects).to.have.length(count);
      expect(objects.every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1')).to.equal(true);
      const pages = server.requests.filter((r) => r.path === '/api/v1/configmaps' && r.query.watch !== 'true');
      expect(pages).to.have.length(3);
      expect(pages[1]!.query.continue).to.be.a('string');
      await fetch(`${server.url}/api/v1/namespaces/default/configmaps/cm-0`, { method: 'DELETE' });
      await eventually(() => ([...reflector.objects()].length === count - 1 ? true : undefined));
      expect(errors.every((e) => e === null)).to.equal(true);
    } finally {
      signal.abort();
      await running;
    }
  });

  it('starts the list over when its continue token expires, keeping every change made meanwhile', async () => {
    const count = LIST_PAGE_SIZE + 3;
    const storage = storageKey('', 'configmaps');
    for (let i = 0; i < count; i++) server.store.put(storage, { metadata: { name: `cm-${i}`, namespace: 'default' }, data: {} });
    // After the first page: one object deleted, one added, and the history compacted, so the
    // next page's continue token is 410 Gone (as etcd compaction does on a real server).
    class ChangingMidList extends ApiClient {
      #pages = 0;
      override async get(path: string, query: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<unknown> {
        const body = await super.get(path, query, signal);
        if (++this.#pages === 1) {
          server.store.remove(storage, 'default', 'cm-0');
          server.store.put(storage, { metadata: { name: 'cm-new', namespace: 'default' }, data: {} });
          server.compact();
        }
        return body;
      }
    }
    const reflector = new Reflector(new ChangingMidList(kubeconfigFor(server)), { path: '/api/v1/configmaps', apiVersion: 'v1', kind: 'ConfigMap' }, {
      onChange: () => undefined,
      onHealth: () => undefined,
    }, { initialMs: 50, maxMs: 100 });
    const signal = new AbortController();
    const running = reflector.run(signal.signal);
    try {
      await eventually(() => (reflector.synced ? true : undefined));
      const names = [...reflector.objects()].map((o) => (o.metadata as { name: string }).name);
      expect(names).to.have.length(count);
      expect(names).to.include('cm-new').and.not.include('cm-0');
      const gone = server.requests.filter((r) => r.path === '/api/v1/configmaps' && r.status === 410);
      expect(gone).to.have.length(1);
    } finally {
      signal.abort();
      await running;
    }
  });
});
