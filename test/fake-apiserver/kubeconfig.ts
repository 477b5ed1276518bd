/** Kubeconfigs pointing at a fake API server (plain HTTP, so `skipTLSVerify: true`). */
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeconfigOptions {
  /** A bearer token sent on every request (the fake server records it, never checks it). */
  readonly token?: string;
  readonly namespace?: string;
}

export function kubeconfigFor(server: { readonly url: string }, options: KubeconfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [options.token ? { name: 'fake', token: options.token } : { name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', ...(options.namespace ? { namespace: options.namespace } : {}) }],
    currentContext: 'fake',
  });
  return kc;
}

/** Writes the kubeconfig to `path` (JSON, which is YAML) for a process to load with `--kubeconfig`. */
export function writeKubeconfig(server: { readonly url: string }, path: string, options: KubeconfigOptions = {}): string {
  writeFileSync(path, kubeconfigFor(server, options).exportConfig());
  return path;
}
