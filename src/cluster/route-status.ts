/**
 * Gateway API route status (the leader only): for each HTTPRoute and GRPCRoute, the
 * `status.parents[]` entries of Plexus's controller (`plexus.dev/mesh`) are replaced by what the
 * compile decided for the route's Service parents; entries of other controllers (a Gateway's)
 * are kept as they are. Planning is pure; `RouteStatusWriter` patches the `/status` subresource
 * with the object's resourceVersion, so a write never overwrites a change it did not see.
 */
import type { RawObject } from '../model/snapshot.js';
import type { MeshConfig, RouteStatus } from '../routing/mesh-config.js';
import { CONTROLLER_NAME, GATEWAY_RESOURCES } from '../gateway/resources.js';
import { ApiClient, KubeApiError } from '../kube/api-client.js';

export interface StatusCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

export interface ParentStatusEntry {
  readonly parentRef: Readonly<Record<string, unknown>>;
  readonly controllerName: string;
  readonly conditions: readonly StatusCondition[];
}

export interface StatusWrite {
  readonly path: string;
  readonly resourceVersion: string;
  readonly parents: readonly ParentStatusEntry[];
  /** `Kind namespace/name`, for messages. */
  readonly route: string;
}

/** The API server caps `status.parents` (and `message` lengths). */
const MAX_PARENTS = 32;
const MAX_MESSAGE = 32_768;

type Fields = Readonly<Record<string, unknown>>;

function fieldsOf(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Fields : {};
}

/** The status writes `config` calls for, given the routes as the API server last showed them. */
export function planRouteStatus(config: MeshConfig, objects: readonly RawObject[], now: string): StatusWrite[] {
  const statuses = new Map((config.routes ?? []).map((s) => [`${s.kind} ${s.namespace}/${s.name}`, s]));
  const writes: StatusWrite[] = [];
  for (const raw of objects) {
    const resource = GATEWAY_RESOURCES.find((r) => r.kind === raw['kind']);
    if (resource === undefined || typeof raw['apiVersion'] !== 'string') continue;
    const metadata = fieldsOf(raw['metadata']);
    const key = `${resource.kind} ${String(metadata['namespace'] ?? 'default')}/${String(metadata['name'] ?? '')}`;
    const existing = Array.isArray(fieldsOf(raw['status'])['parents']) ? fieldsOf(raw['status'])['parents'] as unknown[] : [];
    const ours = existing.map(fieldsOf).filter((p) => p['controllerName'] === CONTROLLER_NAME);
    const status = statuses.get(key);
    const desired = status === undefined ? [] : parentEntries(status, ours, now);
    if (sameEntries(ours, desired)) continue;
    const others = existing.map(fieldsOf).filter((p) => p['controllerName'] !== CONTROLLER_NAME) as unknown as ParentStatusEntry[];
    writes.push({
      path: `/apis/${raw['apiVersion']}/namespaces/${String(metadata['namespace'])}/${resource.plural}/${String(metadata['name'])}/status`,
      resourceVersion: String(metadata['resourceVersion'] ?? ''),
      parents: [...others, ...desired].slice(0, MAX_PARENTS),
      route: key,
    });
  }
  return writes;
}

function parentEntries(status: RouteStatus, previous: readonly Fields[], now: string): ParentStatusEntry[] {
  return status.parents.map((parent) => {
    const before = previous.find((p) => JSON.stringify(p['parentRef']) === JSON.stringify(parent.parentRef));
    const beforeConditions = Array.isArray(before?.['conditions']) ? (before['conditions'] as unknown[]).map(fieldsOf) : [];
    return {
      parentRef: parent.parentRef,
      controllerName: CONTROLLER_NAME,
      conditions: parent.conditions.map((condition) => {
        const old = beforeConditions.find((c) => c['type'] === condition.type);
        // The transition time moves only when the condition's status does.
        const since = old !== undefined && old['status'] === condition.status && typeof old['lastTransitionTime'] === 'string' ? old['lastTransitionTime'] : now;
        return { ...condition, message: condition.message.slice(0, MAX_MESSAGE), observedGeneration: status.generation, lastTransitionTime: since };
      }),
    };
  });
}

/** Equal apart from transition times (which only ever follow the rest). */
function sameEntries(current: readonly Fields[], desired: readonly ParentStatusEntry[]): boolean {
  const strip = (entries: readonly unknown[]): string => JSON.stringify(entries.map((entry) => {
    const fields = fieldsOf(entry);
    const conditions = Array.isArray(fields['conditions']) ? (fields['conditions'] as unknown[]).map(fieldsOf) : [];
    return {
      parentRef: fields['parentRef'],
      conditions: conditions.map((c) => [c['type'], c['status'], c['reason'], c['message'], c['observedGeneration']]),
    };
  }));
  return strip(current) === strip(desired);
}

export interface StatusFailure {
  readonly route: string;
  readonly message: string;
}

export class RouteStatusWriter {
  /** What was last written per route path: a stale snapshot does not write it again. */
  readonly #written = new Map<string, string>();

  constructor(private readonly client: ApiClient) {}

  async write(config: MeshConfig, objects: readonly RawObject[]): Promise<StatusFailure[]> {
    const failures: StatusFailure[] = [];
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const writes = planRouteStatus(config, objects, now);
    // Forget routes that no longer need a write (their status is as wanted) or are gone.
    for (const path of this.#written.keys()) if (!writes.some((w) => w.path === path)) this.#written.delete(path);
    for (const write of writes) {
      const signature = `${write.resourceVersion} ${JSON.stringify(write.parents)}`;
      if (this.#written.get(write.path) === signature) continue;
      try {
        await this.client.request('PATCH', write.path, {
          body: { metadata: { resourceVersion: write.resourceVersion }, status: { parents: write.parents } },
          contentType: 'application/merge-patch+json',
        });
        this.#written.set(write.path, signature);
      } catch (error) {
        // A conflict means the route changed meanwhile: the next update carries it and retries.
        if (error instanceof KubeApiError && (error.code === 409 || error.code === 404)) continue;
        failures.push({ route: write.route, message: `status not written: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    return failures;
  }
}
