/**
 * The issuer's reads of the API server, through the API access layer (every call has a
 * timeout): the TokenReview, the agent pod a token is bound to and the pods of a node (with the
 * issuer's credentials: manifests/30-rbac.yaml, ServiceAccount plexus-issuer). The agent's own
 * token (what it sends to the issuer) is read in cluster-credentials.ts.
 */
import { getOrNull, type ApiClient } from '../kube/api-client.js';
import type { PodPlacement } from '../secure/issuer.js';
import type { AgentPod, TokenReviewStatus } from './agent-token.js';
import type { IssuerLookups } from './issuer-service.js';

interface PodObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly labels?: Record<string, string> };
  readonly spec?: { readonly nodeName?: string; readonly serviceAccountName?: string };
  readonly status?: { readonly phase?: string };
}

const TERMINATED = new Set(['Succeeded', 'Failed']);

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
