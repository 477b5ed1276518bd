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
});
