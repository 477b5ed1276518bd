/** Where the agent's API credentials come from: a file, else in-cluster, else ~/.kube/config. */
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * In a pod the projected ServiceAccount token rotates; client-node's in-cluster config reads it
 * from disk and re-reads it every minute (as client-go does), so a rotated token is picked up
 * well before the old one expires.
 */
export function loadKubeConfig(path: string | null): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error(path ? `kubeconfig ${path} has no current cluster` : 'no Kubernetes configuration found (in-cluster or ~/.kube/config)');
  return kc;
}
