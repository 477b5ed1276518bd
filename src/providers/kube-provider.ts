/**
 * The kube provider: watches the API server and hands out Snapshots of what it holds.
 *
 * Watched: Services (all, the mesh's own shadow Services among them), EndpointSlices, Namespaces, the Pods of this node
 * (field selector `spec.nodeName`: the source identities) — all Pods with ACL on, whose access
 * rules need the ServiceAccounts of destination pods on other nodes —
 * and every SMI kind in the newest version the cluster serves. A kind the cluster does not serve
 * is a reported condition, and discovery runs again periodically so a CRD installed later is
 * picked up.
 *
 * Emissions are debounced and only start once every watched kind has been listed. Unchanged
 * objects keep their references between snapshots. When the API server is unreachable the last
 * snapshot stays in force; the status says what is failing.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { append } from '../model/append.js';
import type { RawObject } from '../model/snapshot.js';
import { ApiClient } from '../kube/api-client.js';
import { DEFAULT_BACKOFF, sleep, type BackoffPolicy } from '../kube/backoff.js';
import { Reflector, type ReflectorSpec } from '../kube/reflector.js';
import type { Provider, ProviderOutput } from './provider.js';
import { discoverSmi, type SmiServing } from './smi-discovery.js';

export interface KubeProviderOptions extends ProviderOutput {
  readonly kubeConfig: KubeConfig;
  /** This agent's node: only its Pods are watched unless `allPods`. */
  readonly nodeName: string;
  /** Watch the Pods of every node (ACL mode: destination ServiceAccounts). */
  readonly allPods: boolean;
  /** Quiet time before a change is emitted (default 20 ms), so bursts compile once. */
  readonly debounceMs?: number;
  readonly backoff?: BackoffPolicy;
  /** How often SMI discovery runs again (default 30 s). */
  readonly discoveryIntervalMs?: number;
  /** Longest wait for an answer from the API server (default: the API client's, 30 s). */
  readonly requestTimeoutMs?: number;
}

const CORE_KINDS: readonly ReflectorSpec[] = [
  { path: '/api/v1/services', apiVersion: 'v1', kind: 'Service' },
  { path: '/apis/discovery.k8s.io/v1/endpointslices', apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  { path: '/api/v1/namespaces', apiVersion: 'v1', kind: 'Namespace' },
];

function podSpec(options: KubeProviderOptions): ReflectorSpec {
  const spec = { path: '/api/v1/pods', apiVersion: 'v1', kind: 'Pod' };
  return options.allPods ? spec : { ...spec, fieldSelector: `spec.nodeName=${options.nodeName}` };
}

interface Running {
  readonly reflector: Reflector;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export class KubeProvider implements Provider {
  readonly #options: KubeProviderOptions;
  readonly #client: ApiClient;
  readonly #controller = new AbortController();
  readonly #core: Running[] = [];
  /** SMI reflectors by kind. */
  readonly #smi = new Map<string, Running>();
  readonly #errors = new Map<string, string>();
  #smiConditions: string[] = [];
  #discovered = false;
  #discoveryLoop: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastStatus = '';

  constructor(options: KubeProviderOptions) {
    this.#options = options;
    this.#client = new ApiClient(options.kubeConfig, options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs });
  }

  /** Starts the watches; the first snapshot comes once every watched kind has been listed. */
  async start(): Promise<void> {
    for (const spec of [...CORE_KINDS, podSpec(this.#options)]) this.#core.push(this.#startReflector(spec));
    this.#discoveryLoop = this.#discover();
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const running of [...this.#core, ...this.#smi.values()]) running.controller.abort();
    await Promise.all([...this.#core, ...this.#smi.values()].map((r) => r.done));
    await this.#discoveryLoop;
  }

  #startReflector(spec: ReflectorSpec): Running {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    this.#controller.signal.addEventListener('abort', stop, { once: true });
    const reflector = new Reflector(this.#client, spec, {
      onChange: () => this.#schedule(),
      onHealth: (error) => this.#setError(`watch ${spec.kind}`, error ? error.message : null),
    }, this.#options.backoff ?? DEFAULT_BACKOFF);
    const done = reflector.run(controller.signal).finally(() => this.#controller.signal.removeEventListener('abort', stop));
    return { reflector, controller, done };
  }

  async #discover(): Promise<void> {
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      try {
        this.#applyDiscovery(await discoverSmi(this.#client, signal));
        this.#setError('discovery', null);
      } catch (error) {
        if (signal.aborted) return;
        this.#setError('discovery', `SMI discovery: ${error instanceof Error ? error.message : String(error)}`);
      }
      await sleep(this.#discovered ? this.#options.discoveryIntervalMs ?? 30_000 : (this.#options.backoff ?? DEFAULT_BACKOFF).initialMs, signal);
    }
  }

  #applyDiscovery(serving: readonly SmiServing[]): void {
    const conditions: string[] = [];
    let changed = !this.#discovered;
    for (const entry of serving) {
      const kind = entry.resource.kind;
      const running = this.#smi.get(kind);
      const apiVersion = entry.version ? `${entry.resource.group}/${entry.version}` : null;
      if (entry.version === null) conditions.push(`${kind}: ${entry.reason}`);
      if (running && running.reflector.spec.apiVersion === apiVersion) continue;
      changed = true;
      if (running) {
        running.controller.abort();
        this.#smi.delete(kind);
        this.#setError(`watch ${kind}`, null);
      }
      if (entry.version === null) continue;
      this.#smi.set(kind, this.#startReflector({
        path: `/apis/${entry.resource.group}/${entry.version}/${entry.resource.plural}`,
        apiVersion: apiVersion!,
        kind,
      }));
    }
    this.#smiConditions = conditions;
    this.#discovered = true;
    this.#reportStatus();
    if (changed) this.#schedule();
  }

  #setError(source: string, message: string | null): void {
    if (message === null) this.#errors.delete(source);
    else this.#errors.set(source, message);
    this.#reportStatus();
  }

  #reportStatus(): void {
    const healthy = this.#errors.size === 0;
    // Every watch fails the same way when the server is away: say it once.
    const parts = [...new Set([...this.#errors.values(), ...this.#smiConditions])];
    const message = parts.length > 0 ? parts.join('; ') : 'watching the API server';
    const key = `${healthy}:${message}`;
    if (key === this.#lastStatus) return;
    this.#lastStatus = key;
    this.#options.onStatus({ healthy, message: healthy ? message : `API server unreachable or failing, serving the last config: ${message}` });
  }

  #schedule(): void {
    if (this.#controller.signal.aborted || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#emit();
    }, this.#options.debounceMs ?? 20);
  }

  #emit(): void {
    if (this.#controller.signal.aborted || !this.#discovered) return;
    const running = [...this.#core, ...this.#smi.values()];
    if (!running.every((r) => r.reflector.synced)) return;
    const objects: RawObject[] = [];
    for (const { reflector } of running) append(objects, reflector.objects());
    this.#options.onSnapshot({ objects });
  }
}
