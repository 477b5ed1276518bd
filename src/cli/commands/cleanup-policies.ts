/** The NetworkPolicies step of `plexus cleanup`: delete the ones Plexus wrote (by label), in every namespace. */
import { ApiException, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { POLICY_SELECTOR } from '../../cluster/network-policies.js';
import { typedClient } from '../../kube/typed-client.js';

export async function cleanupNetworkPolicies(kc: KubeConfig): Promise<string> {
  const api = typedClient(kc, NetworkingV1Api);
  const list = await api.listNetworkPolicyForAllNamespaces({ labelSelector: POLICY_SELECTOR });
  let deleted = 0;
  for (const policy of list.items) {
    const { namespace, name } = policy.metadata ?? {};
    if (!namespace || !name) continue;
    try {
      await api.deleteNamespacedNetworkPolicy({ namespace, name });
      deleted++;
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }
  return `NetworkPolicies: ${deleted === 0 ? 'none left' : `deleted ${deleted}`} (secure mode)`;
}
