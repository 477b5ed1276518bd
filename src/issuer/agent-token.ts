/**
 * Who is asking for certificates: the pure checks the issuer makes on a TokenReview answer and on
 * the agent pod it names, before `authorizeIssuance` decides per identity. The token must be
 * authenticated, belong to the agent ServiceAccount and be bound to a pod (a projected token:
 * TokenReview then carries the pod's name and uid, and from Kubernetes 1.32 its node); that pod
 * must still exist with the same uid, run as the agent ServiceAccount, carry the agent labels and
 * be scheduled on a node. That node is where the requester runs.
 */
import { AGENT_POD_SELECTOR } from '../kube/labels.js';

export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';
export const NODE_NAME_EXTRA = 'authentication.kubernetes.io/node-name';

/** `status` of an authentication.k8s.io/v1 TokenReview. */
export interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly user?: { readonly username?: string; readonly extra?: Readonly<Record<string, readonly string[]>> };
  readonly error?: string;
}

/** The agents' ServiceAccount. */
export interface AgentAccount {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface TokenClaims {
  readonly podName: string;
  readonly podUid: string | null;
  readonly nodeName: string | null;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const one = (extra: Readonly<Record<string, readonly string[]>> | undefined, key: string): string | null => {
  const values = extra?.[key];
  return values !== undefined && values.length === 1 && values[0] !== '' ? values[0]! : null;
};

export function tokenClaims(status: TokenReviewStatus, account: AgentAccount): Checked<TokenClaims> {
  if (status.authenticated !== true) return { ok: false, reason: `token not authenticated${status.error ? ` (${status.error})` : ''}` };
  const expected = `system:serviceaccount:${account.namespace}:${account.serviceAccount}`;
  const username = status.user?.username ?? '';
  if (username !== expected) return { ok: false, reason: `token of ${username || 'an unnamed user'}, not of the agent ServiceAccount ${expected}` };
  const podName = one(status.user?.extra, POD_NAME_EXTRA);
  if (podName === null) return { ok: false, reason: 'token not bound to a pod (send the pod\'s projected ServiceAccount token)' };
  return { ok: true, value: { podName, podUid: one(status.user?.extra, POD_UID_EXTRA), nodeName: one(status.user?.extra, NODE_NAME_EXTRA) } };
}

/** The fields of the agent pod the issuer checks. */
export interface AgentPod {
  readonly uid: string;
  readonly serviceAccountName: string;
  readonly nodeName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly phase: string;
}

/** The node the requesting agent runs on, or why it cannot be trusted with one. */
export function requesterNode(claims: TokenClaims, pod: AgentPod | null, account: AgentAccount): Checked<string> {
  const name = `pod ${account.namespace}/${claims.podName}`;
  if (pod === null) return { ok: false, reason: `${name}, which the token is bound to, does not exist` };
  if (claims.podUid !== null && pod.uid !== claims.podUid) return { ok: false, reason: `${name} was replaced since the token was issued (uid differs)` };
  if (pod.serviceAccountName !== account.serviceAccount) return { ok: false, reason: `${name} runs as ${pod.serviceAccountName}, not as the agent ServiceAccount` };
  const unlabelled = Object.entries(AGENT_POD_SELECTOR).filter(([key, value]) => pod.labels[key] !== value).map(([key]) => key);
  if (unlabelled.length > 0) return { ok: false, reason: `${name} is not an agent pod (labels ${unlabelled.join(', ')})` };
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return { ok: false, reason: `${name} has terminated` };
  if (pod.nodeName === '') return { ok: false, reason: `${name} is not scheduled on a node` };
  if (claims.nodeName !== null && claims.nodeName !== pod.nodeName) {
    return { ok: false, reason: `the token names node ${claims.nodeName} but ${name} runs on ${pod.nodeName}` };
  }
  return { ok: true, value: pod.nodeName };
}
