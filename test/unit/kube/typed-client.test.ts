import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { expect } from 'chai';
import { typedClient } from '../../../src/kube/typed-client.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';

describe('typed API clients (client-node, bounded)', () => {
  let server: FakeApiServer;

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
  });
  afterEach(() => server.stop());

  it('calls through client-node: typed answers, and per-call options (a patch type) still apply', async () => {
    const core = typedClient(kubeconfigFor(server), CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    const patched = await core.patchNamespace(
      { name: 'shop', body: { metadata: { labels: { team: 'a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.labels).to.deep.equal({ team: 'a' });
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).to.include('shop');
  });

  it('gives up on a call the API server never answers, and says so; an abort ends a call at once', async () => {
    server.freeze();
    try {
      const error = await typedClient(kubeconfigFor(server), CoreV1Api, { timeoutMs: 200 }).listNamespace().catch((e: unknown) => e);
      expect(String(error)).to.contain('no answer from the API server within 0.2 s');
      const stopping = new AbortController();
      const aborted = typedClient(kubeconfigFor(server), CoreV1Api, { signal: stopping.signal }).listNamespace().catch((e: unknown) => e);
      stopping.abort();
      expect((await aborted as Error).name).to.equal('AbortError');
    } finally {
      server.thaw();
    }
  });
});
