/**
 * Secure mode's reads of the API server, through the API access layer (every call has a
 * timeout): the issuer's TokenReview, the agent pod a token is bound to and the pods of a node
 * (with the issuer's credentials: manifests/30-rbac.yaml, ServiceAccount plexus-issuer), and the
 * agent's own token (what it sends to the issuer).
 */
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { ApiClient, KubeApiError } from '../../kube/api-client.js';
import type { PodPlacement } from '../issuer.js';
import type { AgentPod, TokenReviewStatus } from './agent-token.js';
import type { IssuerLookups } from './issuer-service.js';

interface PodObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly labels?: Record<string, string> };
  readonly spec?: { readonly nodeName?: string; readonly serviceAccountName?: string };
  readonly status?: { readonly phase?: string };
}

const TERMINATED = new Set(['Succeeded', 'Failed']);

/** GET `path`; null on 404. */
export async function getOrNull(client: ApiClient, path: string): Promise<unknown> {
  try {
    return await client.get(path);
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) return null;
    throw err;
  }
}

function podPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
}

export function issuerLookups(client: ApiClient, namespace: string): IssuerLookups {
  return {
    reviewToken: async (token) => {
      const review = await client.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      }) as { status?: TokenReviewStatus };
      return review.status ?? {};
    },
    agentPod: async (name): Promise<AgentPod | null> => {
      const pod = await getOrNull(client, podPath(namespace, name)) as PodObject | null;
      if (pod === null) return null;
      return {
        uid: pod.metadata?.uid ?? '',
        serviceAccountName: pod.spec?.serviceAccountName ?? 'default',
        nodeName: pod.spec?.nodeName ?? '',
        labels: pod.metadata?.labels ?? {},
        phase: pod.status?.phase ?? '',
      };
    },
    podsOnNode: async (node) => {
      const list = await client.get('/api/v1/pods', { fieldSelector: `spec.nodeName=${node}` }) as { items?: PodObject[] };
      return (list.items ?? []).filter((pod) => !TERMINATED.has(pod.status?.phase ?? '')).map((pod): PodPlacement => ({
        namespace: pod.metadata?.namespace ?? '',
        pod: pod.metadata?.name ?? '',
        serviceAccount: pod.spec?.serviceAccountName ?? 'default',
      }));
    },
  };
}

/**
 * The agent's own ServiceAccount token, as client-node sends it to the API server (in a pod: the
 * projected token file, re-read as it rotates). It is bound to this pod, which is what the issuer checks.
 */
export async function bearerToken(kubeConfig: KubeConfig): Promise<string> {
  const context = new RequestContext(kubeConfig.getCurrentCluster()?.server ?? 'https://kubernetes.default.svc', HttpMethod.POST);
  await kubeConfig.applySecurityAuthentication(context);
  const token = /^Bearer (\S+)$/.exec(context.getHeaders()['Authorization'] ?? '')?.[1];
  if (token === undefined) throw new Error('the agent has no ServiceAccount token to prove who it is (secure mode needs the pod\'s token)');
  return token;
}
