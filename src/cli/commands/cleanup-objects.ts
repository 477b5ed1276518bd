/**
 * The objects the agents create outside manifests/, found and deleted for `plexus cleanup`:
 * shadow Services and the leader Lease in the mesh namespace, and the problem Events in every
 * namespace. Each deletion tolerates an object (or namespace) that is already gone.
 */
import { ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { EVENT_COMPONENT, EVENT_REASON } from '../../cluster/events.js';
import { SHADOW_SELECTOR } from '../../kube/labels.js';
import { DEFAULT_LEASE_NAME } from '../../kube/leader.js';
import { typedClient } from '../../kube/typed-client.js';

/** The agent DaemonSet, as named in manifests/40-daemonset.yaml. */
const AGENT_DAEMONSET = 'plexus-agent';

const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

async function ignoreNotFound(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Deletes the shadow Services; returns how many were deleted. */
export async function deleteShadowServices(kc: KubeConfig, namespace: string): Promise<number> {
  const core = typedClient(kc, CoreV1Api);
  const list = await core.listNamespacedService({ namespace, labelSelector: SHADOW_SELECTOR });
  let deleted = 0;
  for (const name of list.items.map((s) => s.metadata?.name ?? '').filter((n) => n !== '')) {
    if (await ignoreNotFound(() => core.deleteNamespacedService({ namespace, name }))) deleted++;
  }
  return deleted;
}

/** Deletes the leader Lease; false when there was none (read first: a second run sends no write). */
export async function deleteLeaderLease(kc: KubeConfig, namespace: string): Promise<boolean> {
  const api = typedClient(kc, CoordinationV1Api);
  if (!(await ignoreNotFound(() => api.readNamespacedLease({ namespace, name: DEFAULT_LEASE_NAME })))) return false;
  return ignoreNotFound(() => api.deleteNamespacedLease({ namespace, name: DEFAULT_LEASE_NAME }));
}

/** Deletes the Events the agents recorded, in every namespace; returns how many. */
export async function deletePlexusEvents(kc: KubeConfig): Promise<number> {
  const core = typedClient(kc, CoreV1Api);
  const list = await core.listEventForAllNamespaces({ fieldSelector: `reason=${EVENT_REASON}` });
  let deleted = 0;
  for (const event of list.items) {
    const { name, namespace } = event.metadata;
    // The reason alone could be another tool's; the component is the agent's signature.
    const ours = event.source?.component === EVENT_COMPONENT || event.reportingComponent === EVENT_COMPONENT;
    if (!ours || !name || !namespace) continue;
    if (await ignoreNotFound(() => core.deleteNamespacedEvent({ namespace, name }))) deleted++;
  }
  return deleted;
}

/** True while the agent DaemonSet exists: its leader would write everything back. */
export async function agentsInstalled(kc: KubeConfig, namespace: string): Promise<boolean> {
  try {
    await typedClient(kc, AppsV1Api).readNamespacedDaemonSet({ namespace, name: AGENT_DAEMONSET });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
