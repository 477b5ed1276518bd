/**
 * The agent pods of the mesh namespace (the DaemonSet's labels, AGENT_POD_SELECTOR), watched by
 * every agent in Kubernetes mode: the tunnel peers come from them (agent-peers.ts), and so does the
 * mesh's secure mode, which decides the leader's NetworkPolicies whatever mode the leader itself
 * runs (a plain leader during a switch must neither withhold nor remove what secure agents rely
 * on).
 *
 * Each pod advertises its agent's mode with `plexus.dev/secure` (the pod template's annotation,
 * which the agent also reads as PLEXUS_SECURE and checks at start). The mesh runs secure mode
 * while ANY agent pod that is not finished says so: from the first new pod of `plexus secure on`
 * (before it is even ready) to the last old pod of `plexus secure off` (until it is gone, drain
 * included). In between, plain and secure agents coexist and the policies stay.
 */
import { AGENT_POD_SELECTOR, SECURE_ANNOTATION } from '../../kube/labels.js';
import type { ApiClient } from '../../kube/api-client.js';
import { DEFAULT_BACKOFF } from '../../kube/backoff.js';
import { Reflector } from '../../kube/reflector.js';
import type { RawObject } from '../../model/snapshot.js';

interface PodModeView {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly status?: { readonly phase?: string };
}

/** Whether an agent pod says it runs secure mode (its pod template's annotation). */
export function podRunsSecure(pod: PodModeView): boolean {
  return pod.metadata?.annotations?.[SECURE_ANNOTATION] === 'true';
}

/** A pod that ended (Succeeded, Failed) runs no agent. */
export function podFinished(pod: PodModeView): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Whether any agent pod of `pods` that has not finished runs secure mode. */
export function meshRunsSecure(pods: Iterable<RawObject>): boolean {
  for (const pod of pods) {
    if (!podFinished(pod as PodModeView) && podRunsSecure(pod as PodModeView)) return true;
  }
  return false;
}

export class AgentPods {
  readonly #reflector: Reflector;
  readonly #controller = new AbortController();
  readonly #listeners: (() => void)[] = [];
  readonly #secureListeners: (() => void)[] = [];
  #secure: boolean | null = null;
  #running: Promise<void> | null = null;

  /** `onError`: the pods are not readable (retried; what was seen is kept meanwhile). */
  constructor(client: ApiClient, namespace: string, onError: (error: Error) => void) {
    this.#reflector = new Reflector(client, {
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      apiVersion: 'v1',
      kind: 'Pod',
      labelSelector: Object.entries(AGENT_POD_SELECTOR).map(([key, value]) => `${key}=${value}`).join(','),
    }, {
      onChange: () => this.#changed(),
      onHealth: (error) => {
        if (error !== null) onError(error);
      },
    }, DEFAULT_BACKOFF);
  }

  objects(): IterableIterator<RawObject> {
    return this.#reflector.objects();
  }

  /** The mesh's secure mode (meshRunsSecure); null until the agent pods were listed once. */
  get meshSecure(): boolean | null {
    return this.#secure;
  }

  /** `listener` runs after every change of the pods. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** `listener` runs when the mesh's secure mode is first known and whenever it flips. */
  onSecureChange(listener: () => void): void {
    this.#secureListeners.push(listener);
  }

  start(): void {
    this.#running ??= this.#reflector.run(this.#controller.signal);
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#running;
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
    const secure = meshRunsSecure(this.#reflector.objects());
    if (secure === this.#secure) return;
    this.#secure = secure;
    for (const listener of this.#secureListeners) listener();
  }
}
