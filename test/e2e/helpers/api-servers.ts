/**
 * The API servers the Kubernetes-mode end-to-end tests run against, one code path for both:
 * the fake (test/fake-apiserver, `npm test`) and the real one of a disposable cluster (when
 * `npm run test:cluster` runs these files: test/cluster/README.md). Tests that need the fake's
 * hooks (freeze, breakWatches, restart, compact, the request log) read them from `fake`, which is
 * null on the real server; what they check there runs on the fake only.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeconfigFor, writeKubeconfig } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer, type FakeApiServerOptions } from '../../fake-apiserver/server.js';
import { clusterTarget } from '../../cluster/helpers/target.js';
import { writeFileSync } from 'node:fs';

/** The local address of the kit's node (kube0): a real API server accepts it in endpoints. */
const KIT_NODE_IP = '10.250.0.1';

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface TestApiServer {
  readonly kind: 'fake' | 'real';
  /** The fake's test hooks; null on the real server. */
  readonly fake: FakeApiServer | null;
  /** Admin access, for the test's own calls. */
  readonly kc: KubeConfig;
  /** Writes a kubeconfig for a process (the agent); admin unless a bearer `token` is given. */
  kubeconfigFile(path: string, token?: string): string;
  /**
   * An address of this machine the server accepts as an endpoint: `loopback` on the fake (its
   * test-only switch), the node's address on the real one (loopback endpoints are 422 there).
   */
  endpointAddress(loopback: string): string;
  /** One raw API request as admin (JSON in and out). */
  request(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** Stops the fake; resets the real cluster (namespaces, CoreDNS) for the next test. */
  stop(): Promise<void>;
}

/** Which servers this run tests against: the fake in `npm test`, the real one under test:cluster. */
export function apiServerKinds(): readonly ('fake' | 'real')[] {
  return clusterTarget() === null ? ['fake'] : ['real'];
}

export async function startApiServer(kind: 'fake' | 'real', options: FakeApiServerOptions = {}): Promise<TestApiServer> {
  return kind === 'fake' ? startFake(options) : connectReal();
}

async function startFake(options: FakeApiServerOptions): Promise<TestApiServer> {
  const fake = new FakeApiServer({ allowLoopbackEndpoints: true, ...options });
  await fake.start();
  const kc = kubeconfigFor(fake);
  return {
    kind: 'fake', fake, kc,
    kubeconfigFile: (path, token) => writeKubeconfig(fake, path, token === undefined ? {} : { token }),
    endpointAddress: (loopback) => loopback,
    request: (method, path, body) => send(kc, method, path, body),
    stop: () => fake.stop(),
  };
}

async function connectReal(): Promise<TestApiServer> {
  const target = clusterTarget();
  if (target === null) throw new Error('no cluster: the real API server is tested under npm run test:cluster');
  if (target.kit === null) throw new Error('the real-API-server runs of the e2e tests reset the cluster between tests: they need the kit');
  const kc = new KubeConfig();
  kc.loadFromFile(target.kubeconfig);
  const kit = target.kit;
  return {
    kind: 'real', fake: null, kc,
    kubeconfigFile: (path, token) => {
      writeFileSync(path, (token === undefined ? kc : withToken(kc, token)).exportConfig());
      return path;
    },
    endpointAddress: () => KIT_NODE_IP,
    request: (method, path, body) => send(kc, method, path, body),
    stop: async () => {
      await promisify(execFile)(`${kit}/reset`, [], { env: { ...process.env, KUBE_QUIET: '1' }, timeout: 300_000 });
    },
  };
}

/** The same cluster, authenticating with a bearer token (a ServiceAccount's) instead of admin's certificate. */
function withToken(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster], users: [{ name: 'token', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token' }], currentContext: 'token',
  });
  return kc;
}

async function send(kc: KubeConfig, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: RequestOptions = { method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
