/**
 * Mocha hooks: a fresh fake API server for every test of the calling `describe` (started before
 * it, stopped after it), with a kubeconfig for it as client-node loads one.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeconfigFor } from '../fake-apiserver/kubeconfig.js';
import { FakeApiServer, type FakeApiServerOptions } from '../fake-apiserver/server.js';

export interface ApiServerOfTest {
  /** The running test's server. */
  readonly server: FakeApiServer;
  /** A kubeconfig for it. */
  readonly kc: KubeConfig;
}

export function apiServerPerTest(options: FakeApiServerOptions = {}): ApiServerOfTest {
  let current: ApiServerOfTest | null = null;
  beforeEach(async () => {
    const server = new FakeApiServer(options);
    await server.start();
    current = { server, kc: kubeconfigFor(server) };
  });
  afterEach(async () => {
    const running = current;
    current = null;
    await running?.server.stop();
  });
  const running = (): ApiServerOfTest => {
    if (current === null) throw new Error('the fake API server runs only during a test (use it inside it() or a hook)');
    return current;
  };
  return {
    get server() { return running().server; },
    get kc() { return running().kc; },
  };
}
