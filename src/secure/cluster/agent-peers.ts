/**
 * Where each node's agent listens for tunnels, in a cluster: the agent pods (agent-pods.ts),
 * mapped nodeName → pod IP at the tunnel port (the same on every agent), with whether that agent
 * runs secure mode (its pod's `plexus.dev/secure` annotation: a plain agent has no tunnel
 * listener, so during a rollout that switches secure mode its node's pods are dialled directly).
 *
 * During a rolling update a node briefly has two agents; either holds that node's agent identity.
 * Preferred: a ready agent that is not stopping, then one that is stopping (it keeps accepting
 * through its drain window), then one not ready yet; the newest among equals.
 */
import { SECURE_ANNOTATION } from '../../kube/labels.js';
import { getOrNull, type ApiClient } from '../../kube/api-client.js';
import type { RawObject } from '../../model/snapshot.js';
import type { PeerAddress } from '../secure-mode.js';
import { podFinished, podRunsSecure, type AgentPods } from './agent-pods.js';

interface AgentPodObject {
  readonly metadata?: { readonly creationTimestamp?: string; readonly deletionTimestamp?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: { readonly podIP?: string; readonly phase?: string; readonly conditions?: readonly { readonly type?: string; readonly status?: string }[] };
}

function rank(pod: AgentPodObject): number {
  if (pod.metadata?.deletionTimestamp) return 1;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 2 : 0;
}

export function peersFromAgentPods(pods: Iterable<RawObject>, port: number): Map<string, PeerAddress> {
  const best = new Map<string, { peer: PeerAddress; rank: number; created: string }>();
  for (const raw of pods) {
    const pod = raw as AgentPodObject;
    const node = pod.spec?.nodeName;
    const host = pod.status?.podIP;
    if (!node || !host || podFinished(pod)) continue;
    const candidate = { peer: podRunsSecure(pod) ? { host, port } : { host, port, plain: true }, rank: rank(pod), created: pod.metadata?.creationTimestamp ?? '' };
    const current = best.get(node);
    const better = current === undefined || (candidate.rank !== current.rank ? candidate.rank > current.rank : candidate.created > current.created);
    if (better) best.set(node, candidate);
  }
  return new Map([...best].map(([node, { peer }]) => [node, peer]));
}

/** The tunnel peers, live: updated in place as the agent pods come and go. */
export function agentPeers(pods: AgentPods, tunnelPort: number): ReadonlyMap<string, PeerAddress> {
  const peers = new Map<string, PeerAddress>();
  const update = (): void => {
    const next = peersFromAgentPods(pods.objects(), tunnelPort);
    peers.clear();
    for (const [node, peer] of next) peers.set(node, peer);
  };
  update();
  pods.onChange(update);
  return peers;
}

/**
 * Why this agent's own pod advertises another mode than the agent runs (`--secure` given on the
 * command line against the annotation, say); null when they agree or the pod is not found. A
 * mismatch would make the other agents tunnel to an agent without a tunnel listener, or never
 * tunnel to a secure one.
 */
export async function ownAdvertisementProblem(client: ApiClient, namespace: string, podName: string, secure: boolean): Promise<string | null> {
  const pod = await getOrNull(client, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`) as AgentPodObject | null;
  if (pod === null || podRunsSecure(pod) === secure) return null;
  const says = `${SECURE_ANNOTATION}=${pod.metadata?.annotations?.[SECURE_ANNOTATION] ?? '(absent)'}`;
  return secure
    ? `this agent runs secure mode but its pod ${namespace}/${podName} says ${says}, so the other agents would not tunnel to it: switch secure mode with the pod template annotation (plexus secure on), not with --secure in the args`
    : `this agent runs plain mode but its pod ${namespace}/${podName} says ${says}, so the other agents would tunnel to it and find no tunnel listener: the annotation sets PLEXUS_SECURE (manifests/40-daemonset.yaml); do not override it with --secure=false`;
}
