/** Where the agent's API credentials come from: a file, else in-cluster, else ~/.kube/config. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KubeConfig, findHomeDir, type User } from '@kubernetes/client-node';
import { parse } from 'yaml';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

interface RawKubeconfig {
  readonly users?: readonly { readonly name?: unknown; readonly user?: { readonly tokenFile?: unknown } }[];
}

/**
 * Loads the kubeconfig every command uses (agent, prepare, cleanup, check, ca).
 *
 * In a pod the projected ServiceAccount token rotates; client-node's in-cluster config reads it
 * from disk and re-reads it every minute (as client-go does), so a rotated token is picked up
 * well before the old one expires. A kubeconfig user's `tokenFile` (client-go's field, which
 * client-node ignores) gets the same treatment.
 */
export function loadKubeConfig(path: string | null): KubeConfig {
  const kc = new KubeConfig();
  if (path) loadFile(kc, path);
  else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
  else if (defaultConfigExists()) kc.loadFromDefault();
  // client-node would fall back to http://localhost:8080, so every command would fail later with
  // "connection refused" to an address the user never configured (kubectl at least explains it).
  else throw new Error('no Kubernetes configuration found: not in a pod, $KUBECONFIG is not set and there is no ~/.kube/config; pass --kubeconfig FILE');
  if (!kc.getCurrentCluster()) throw new Error(path ? `kubeconfig ${path} names no current cluster` : 'no Kubernetes configuration found (in-cluster or ~/.kube/config)');
  return allowPlainHttp(kc);
}

/** Whether client-node's default search ($KUBECONFIG, ~/.kube/config, a pod's token) finds anything. */
function defaultConfigExists(): boolean {
  if (process.env.KUBECONFIG) return true;
  const home = findHomeDir();
  return (home !== null && existsSync(join(home, '.kube', 'config'))) || existsSync(IN_CLUSTER_TOKEN);
}

/**
 * client-node refuses an `http://` server unless the cluster sets `insecure-skip-tls-verify`,
 * though there is no certificate to verify; kubectl accepts it, and `kubectl proxy`
 * (http://127.0.0.1:8001) is a common way to reach a cluster. TLS clusters are left as they are.
 */
function allowPlainHttp(kc: KubeConfig): KubeConfig {
  if (!kc.clusters.some((c) => c.server.startsWith('http://') && !c.skipTLSVerify)) return kc;
  const clusters = kc.clusters.map((c) => (c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c));
  kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  return kc;
}

function loadFile(kc: KubeConfig, path: string): void {
  kc.loadFromFile(path);
  const raw = parse(readFileSync(path, 'utf8')) as RawKubeconfig | null;
  const tokenFiles = new Map<string, string>();
  for (const entry of raw?.users ?? []) {
    const file = entry.user?.tokenFile;
    if (typeof entry.name === 'string' && typeof file === 'string' && file !== '') tokenFiles.set(entry.name, resolve(dirname(path), file));
  }
  if (tokenFiles.size === 0) return;
  const users = kc.users.map((user): User => {
    const tokenFile = tokenFiles.get(user.name);
    // A static `token` wins, as in client-go; otherwise client-node's file authenticator re-reads it.
    return tokenFile && !user.token && !user.authProvider ? { ...user, authProvider: { name: 'tokenFile', config: { tokenFile } } } : user;
  });
  kc.loadFromOptions({ clusters: kc.clusters, users, contexts: kc.contexts, currentContext: kc.currentContext });
}
