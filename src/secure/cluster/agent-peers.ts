/**
 * Where each node's agent listens for tunnels, in a cluster: the agent pods of the mesh
 * namespace (the DaemonSet's labels, AGENT_POD_SELECTOR), watched, mapped nodeName → pod IP at
 * the tunnel port (the same on every agent). During a rolling update a node briefly has two
 * agents; either holds that node's agent identity, and a ready one is preferred, then the newest.
 */
import { AGENT_POD_SELECTOR } from '../../kube/labels.js';
import { ApiClient } from '../../kube/api-client.js';
import { DEFAULT_BACKOFF } from '../../kube/backoff.js';
import { Reflector } from '../../kube/reflector.js';
import type { RawObject } from '../../model/snapshot.js';
import type { PeerAddress } from '../secure-mode.js';

interface AgentPodObject {
  readonly metadata?: { readonly creationTimestamp?: string; readonly deletionTimestamp?: string };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: { readonly podIP?: string; readonly phase?: string; readonly conditions?: readonly { readonly type?: string; readonly status?: string }[] };
}

export function peersFromAgentPods(pods: Iterable<RawObject>, port: number): Map<string, PeerAddress> {
  const best = new Map<string, { host: string; ready: boolean; created: string }>();
  for (const raw of pods) {
    const pod = raw as AgentPodObject;
    const node = pod.spec?.nodeName;
    const host = pod.status?.podIP;
    if (!node || !host || pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const candidate = {
      host,
      ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      created: pod.metadata?.creationTimestamp ?? '',
    };
    const current = best.get(node);
    const better = current === undefined || (candidate.ready !== current.ready ? candidate.ready : candidate.created > current.created);
    if (better) best.set(node, candidate);
  }
  return new Map([...best].map(([node, { host }]) => [node, { host, port }]));
}

export class AgentPeers {
  /** Live: updated in place as agent pods come and go. */
  readonly peers = new Map<string, PeerAddress>();
  readonly #reflector: Reflector;
  readonly #controller = new AbortController();
  #running: Promise<void> | null = null;

  constructor(client: ApiClient, namespace: string, tunnelPort: number, onError: (error: Error) => void) {
    this.#reflector = new Reflector(client, {
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      apiVersion: 'v1',
      kind: 'Pod',
      labelSelector: Object.entries(AGENT_POD_SELECTOR).map(([key, value]) => `${key}=${value}`).join(','),
    }, {
      onChange: () => {
        const next = peersFromAgentPods(this.#reflector.objects(), tunnelPort);
        this.peers.clear();
        for (const [node, peer] of next) this.peers.set(node, peer);
      },
      onHealth: (error) => {
        if (error !== null) onError(error);
      },
    }, DEFAULT_BACKOFF);
  }

  start(): void {
    this.#running ??= this.#reflector.run(this.#controller.signal);
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#running;
  }
}
