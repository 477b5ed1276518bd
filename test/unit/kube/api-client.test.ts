import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ApiClient, KubeApiError } from '../../../src/kube/api-client.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';

describe('API client', () => {
  let server: FakeApiServer;
  let dir: string;

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'plexus-token-'));
  });
  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates with the token file, as the in-cluster configuration does', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'projected-token-1');
    const kc = new KubeConfig();
    // The shape loadFromCluster() builds: the token is read from the file, and re-read every minute.
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'u', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    await new ApiClient(kc).get('/api/v1/namespaces');
    expect(server.requests[server.requests.length - 1]!.authorization).to.equal('Bearer projected-token-1');
  });

  it("reads a kubeconfig user's tokenFile (client-go's field) through the re-reading file authenticator", async () => {
    await writeFile(join(dir, 'token'), 'kubeconfig-token-1');
    const path = join(dir, 'kubeconfig');
    // A relative tokenFile is relative to the kubeconfig, as in client-go.
    await writeFile(path, [
      'apiVersion: v1', 'kind: Config', 'current-context: ctx',
      `clusters: [{name: c, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: u, user: {tokenFile: token}}]',
      'contexts: [{name: ctx, context: {cluster: c, user: u}}]',
    ].join('\n'));
    const kc = loadKubeConfig(path);
    expect(kc.getCurrentUser()?.authProvider).to.deep.equal({ name: 'tokenFile', config: { tokenFile: join(dir, 'token') } });
    await new ApiClient(kc).get('/api/v1/namespaces');
    expect(server.requests[server.requests.length - 1]!.authorization).to.equal('Bearer kubeconfig-token-1');
  });

  it('talks to a plain-HTTP server as kubectl does (kubectl proxy), without insecure-skip-tls-verify', async () => {
    const path = join(dir, 'kubeconfig');
    await writeFile(path, [
      'apiVersion: v1', 'kind: Config', 'current-context: ctx',
      `clusters: [{name: c, cluster: {server: "${server.url}"}}, {name: tls, cluster: {server: "https://127.0.0.1:6443"}}]`,
      'users: [{name: u, user: {}}]',
      'contexts: [{name: ctx, context: {cluster: c, user: u}}]',
    ].join('\n'));
    const kc = loadKubeConfig(path);
    await new ApiClient(kc).get('/api/v1/namespaces');
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items).to.be.an('array');
    // A TLS cluster is still verified.
    expect(kc.clusters.find((c) => c.name === 'tls')!.skipTLSVerify).to.not.equal(true);
  });

  it('turns error answers into KubeApiError with the Status reason', async () => {
    const kc = kubeconfigFor(server);
    const error = await new ApiClient(kc).get('/api/v1/namespaces/nope').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(KubeApiError);
    expect(error).to.include({ code: 404, reason: 'NotFound' });
  });

  it('gives up on a request the API server never answers, and says so', async () => {
    const kc = kubeconfigFor(server);
    server.freeze();
    try {
      const error = await new ApiClient(kc, { timeoutMs: 200 }).get('/api/v1/namespaces').catch((e: unknown) => e);
      expect(String(error)).to.contain('no answer from the API server within 0.2 s');
      const stopping = new AbortController();
      const aborted = new ApiClient(kc, { signal: stopping.signal }).get('/api/v1/namespaces').catch((e: unknown) => e);
      stopping.abort();
      expect((await aborted as Error).name).to.equal('AbortError');
    } finally {
      server.thaw();
    }
  });
});

