/** The installed agents as the API shows them: their pods, shadow Services and metrics. */
import type { TestCluster } from './cluster.js';
import { MESH_NAMESPACE } from './install.js';

interface Item {
  readonly metadata: { readonly name: string };
  readonly spec: { readonly clusterIP?: string };
}

/** The ClusterIP of the shadow Service of `ns/name`, or undefined while there is none. */
export async function shadowClusterIp(cluster: TestCluster, ns: string, name: string): Promise<string | undefined> {
  const list = await cluster.kubectl.get<{ items: Item[] }>(['services', '-n', MESH_NAMESPACE, '-l', `plexus.dev/shadow-of-namespace=${ns},plexus.dev/shadow-of-name=${name}`]);
  return list?.items[0]?.spec.clusterIP;
}

/** Sums `name{labels}` over every agent's /metrics (read through the API server's pod proxy). */
export async function agentMetric(cluster: TestCluster, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
  const pods = await cluster.kubectl.get<{ items: Item[] }>(['pods', '-n', MESH_NAMESPACE, '-l', 'app.kubernetes.io/component=agent', '--field-selector=status.phase=Running']);
  let total = 0;
  for (const pod of pods?.items ?? []) {
    const text = await cluster.kubectl.ok(['get', '--raw', `/api/v1/namespaces/${MESH_NAMESPACE}/pods/${pod.metadata.name}:9901/proxy/metrics`]);
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (match?.[1] !== name) continue;
      if (Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`))) total += Number(match[3]);
    }
  }
  return total;
}
