/**
 * Shadow Services: one per meshed Service, in the mesh namespace, selecting the agent pods with
 * `internalTrafficPolicy: Local`, each port's targetPort = the agent listener port allocated to
 * that Service port. They are the stored truth of the port allocation: every agent reads them
 * back (`allocationFromShadowServices`) before compiling, so all agents agree and a restart
 * never moves a port. Names come from `shadowServiceName` (shared with the CoreDNS rewrite).
 *
 * Planning is pure; `ShadowServiceWriter` applies a plan (the leader only).
 */
import { shadowServiceName } from '../dns/shadow-name.js';
import { portKey, type Allocation, type MeshConfig, type PortProtocol } from '../routing/mesh-config.js';
import type { RawObject } from '../model/snapshot.js';
import { ApiClient, KubeApiError } from '../kube/api-client.js';
import type { OwnName } from '../dns/own-names.js';
import { AGENT_POD_SELECTOR, MANAGED_BY_LABEL, MANAGED_BY_PLEXUS, SHADOW_OF_NAME, SHADOW_OF_NAMESPACE, type ManagedMetadata } from '../kube/labels.js';

export interface ShadowPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly targetPort: number;
}

/** The parts of a shadow Service Plexus owns. */
export interface ShadowService {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ManagedMetadata;
  readonly spec: {
    readonly type: 'ClusterIP';
    readonly selector: Readonly<Record<string, string>>;
    readonly internalTrafficPolicy: 'Local';
    readonly ports: readonly ShadowPort[];
  };
}

export interface ShadowPlan {
  readonly create: readonly ShadowService[];
  /** `current` is the object read from the API (its resourceVersion guards the update). */
  readonly update: readonly { readonly current: RawObject; readonly desired: ShadowService }[];
  readonly delete: readonly RawObject[];
}

/** The shadow Services a compiled config calls for (ports without a listener port are left out). */
export function desiredShadowServices(config: MeshConfig, meshNamespace: string): ShadowService[] {
  const desired: ShadowService[] = [];
  for (const service of config.services) {
    const ports = service.ports
      .filter((p) => p.listenerPort > 0)
      .map((p) => ({ name: p.name || `${p.protocol.toLowerCase()}-${p.port}`, port: p.port, protocol: p.protocol, targetPort: p.listenerPort }));
    if (ports.length === 0) continue;
    desired.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: shadowServiceName(service.namespace, service.name),
        namespace: meshNamespace,
        // The original in labels too, for selecting (`-l plexus.dev/shadow-of-name=web`): names
        // of Services and namespaces are always valid label values.
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLEXUS, [SHADOW_OF_NAMESPACE]: service.namespace, [SHADOW_OF_NAME]: service.name },
        annotations: { [SHADOW_OF_NAMESPACE]: service.namespace, [SHADOW_OF_NAME]: service.name },
      },
      spec: { type: 'ClusterIP', selector: AGENT_POD_SELECTOR, internalTrafficPolicy: 'Local', ports },
    });
  }
  return desired;
}

/** What to create, update and delete so the existing shadow Services match `config`. */
export function planShadowServices(config: MeshConfig, existing: readonly RawObject[], meshNamespace: string): ShadowPlan {
  const byName = new Map(existing.map((s) => [nameOf(s), s]));
  const create: ShadowService[] = [];
  const update: { current: RawObject; desired: ShadowService }[] = [];
  const wanted = new Set<string>();
  for (const desired of desiredShadowServices(config, meshNamespace)) {
    wanted.add(desired.metadata.name);
    const current = byName.get(desired.metadata.name);
    if (!current) create.push(desired);
    else if (!matches(current, desired)) update.push({ current, desired });
  }
  const remove = existing.filter((s) => !wanted.has(nameOf(s)));
  return { create, update, delete: remove };
}

/** A snapshot's objects with the shadow Services (the stored allocation, not user Services) apart. */
export interface SplitSnapshot {
  readonly user: readonly RawObject[];
  readonly shadows: readonly RawObject[];
}

/** Splits the shadow Services (Services in `meshNamespace` that Plexus manages) off `objects`. */
export function splitShadowServices(objects: readonly RawObject[], meshNamespace: string): SplitSnapshot {
  const user: RawObject[] = [];
  const shadows: RawObject[] = [];
  for (const object of objects) (isShadowService(object, meshNamespace) ? shadows : user).push(object);
  return { user, shadows };
}

function isShadowService(object: RawObject, meshNamespace: string): boolean {
  if (object.kind !== 'Service' || object.apiVersion !== 'v1') return false;
  const metadata = record(object.metadata);
  return metadata.namespace === meshNamespace && record(metadata.labels)[MANAGED_BY_LABEL] === MANAGED_BY_PLEXUS;
}

/** The listener ports stored in shadow Services, as the compiler's previous allocation. */
export function allocationFromShadowServices(shadows: readonly RawObject[]): Allocation {
  const ports: Record<string, number> = {};
  for (const shadow of shadows) {
    const annotations = record(record(shadow.metadata).annotations);
    const namespace = annotations[SHADOW_OF_NAMESPACE];
    const name = annotations[SHADOW_OF_NAME];
    if (typeof namespace !== 'string' || typeof name !== 'string') continue;
    const list = record(shadow.spec).ports;
    for (const port of Array.isArray(list) ? list : []) {
      const { port: number, protocol, targetPort } = record(port);
      if (typeof number !== 'number' || typeof targetPort !== 'number') continue;
      const proto: PortProtocol = protocol === 'UDP' ? 'UDP' : 'TCP';
      ports[portKey(namespace, name, number, proto)] = targetPort;
    }
  }
  return { ports, vips: {} };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function nameOf(object: RawObject): string {
  const name = record(object.metadata).name;
  return typeof name === 'string' ? name : '';
}

function matches(current: RawObject, desired: ShadowService): boolean {
  const metadata = record(current.metadata);
  const spec = record(current.spec);
  const labels = record(metadata.labels);
  const annotations = record(metadata.annotations);
  const owned = (have: Record<string, unknown>, want: Readonly<Record<string, string>>): boolean => Object.entries(want).every(([k, v]) => have[k] === v);
  const ports = (Array.isArray(spec.ports) ? spec.ports : []).map((p) => {
    const { name, port, protocol, targetPort } = record(p);
    return { name: name ?? '', port, protocol: protocol ?? 'TCP', targetPort };
  });
  return owned(labels, desired.metadata.labels)
    && owned(annotations, desired.metadata.annotations)
    && JSON.stringify(spec.selector) === JSON.stringify(desired.spec.selector)
    && spec.internalTrafficPolicy === 'Local'
    && JSON.stringify(ports) === JSON.stringify(desired.spec.ports);
}

export interface ShadowWriteFailure {
  /** The original Service the shadow stands for (`namespace/name`). */
  readonly service: { readonly namespace: string; readonly name: string };
  readonly message: string;
}

/** Applies plans with optimistic concurrency; a conflict is left for the next round (the watch brings the new version). */
export class ShadowServiceWriter {
  readonly #client: ApiClient;
  readonly #namespace: string;

  constructor(client: ApiClient, meshNamespace: string) {
    this.#client = client;
    this.#namespace = meshNamespace;
  }

  /** Applies the plan; returns what could not be written (other than conflicts). */
  async apply(plan: ShadowPlan): Promise<ShadowWriteFailure[]> {
    const failures: ShadowWriteFailure[] = [];
    const collection = `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/services`;
    const attempt = async (original: { namespace: string; name: string }, write: () => Promise<unknown>): Promise<void> => {
      try {
        await write();
      } catch (error) {
        if (error instanceof KubeApiError && (error.code === 409 && error.reason === 'Conflict' || error.code === 404)) return;
        failures.push({ service: original, message: `shadow Service: ${error instanceof Error ? error.message : String(error)}` });
      }
    };
    for (const desired of plan.create) {
      await attempt(originalOf(desired), async () => {
        try {
          await this.#client.request('POST', collection, { body: desired });
        } catch (error) {
          if (!(error instanceof KubeApiError && error.reason === 'AlreadyExists')) throw error;
          // Our own create not yet seen through the watch is fine; a stranger's Service is not.
          const existing = (await this.#client.get(`${collection}/${encodeURIComponent(desired.metadata.name)}`)) as RawObject;
          const annotations = record(record(existing.metadata).annotations);
          const ours = record(record(existing.metadata).labels)[MANAGED_BY_LABEL] === MANAGED_BY_PLEXUS
            && annotations[SHADOW_OF_NAMESPACE] === desired.metadata.annotations[SHADOW_OF_NAMESPACE]
            && annotations[SHADOW_OF_NAME] === desired.metadata.annotations[SHADOW_OF_NAME];
          if (!ours) {
            throw new Error(`a Service named ${desired.metadata.name} that Plexus does not manage already exists in namespace ${this.#namespace}`);
          }
        }
      });
    }
    for (const { current, desired } of plan.update) {
      const metadata = record(current.metadata);
      const body = {
        ...current,
        metadata: {
          ...metadata,
          labels: { ...record(metadata.labels), ...desired.metadata.labels },
          annotations: { ...record(metadata.annotations), ...desired.metadata.annotations },
        },
        spec: { ...record(current.spec), ...desired.spec },
      };
      await attempt(originalOf(desired), () => this.#client.request('PUT', `${collection}/${encodeURIComponent(desired.metadata.name)}`, { body }));
    }
    for (const orphan of plan.delete) {
      const metadata = record(orphan.metadata);
      const annotations = record(metadata.annotations);
      const original = { namespace: String(annotations[SHADOW_OF_NAMESPACE] ?? ''), name: String(annotations[SHADOW_OF_NAME] ?? nameOf(orphan)) };
      const preconditions = typeof metadata.uid === 'string' ? { uid: metadata.uid } : {};
      await attempt(original, () => this.#client.request('DELETE', `${collection}/${encodeURIComponent(nameOf(orphan))}`, { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } }));
    }
    return failures;
  }
}

function originalOf(shadow: ShadowService): { namespace: string; name: string } {
  return { namespace: shadow.metadata.annotations[SHADOW_OF_NAMESPACE]!, name: shadow.metadata.annotations[SHADOW_OF_NAME]! };
}

/**
 * The Services of `config.ownNames` with their shadow Service's ClusterIPs, as read from the API
 * (a shadow Service created by this very write has its address in the next update).
 */
export function ownNamesOf(config: MeshConfig, shadowServices: readonly RawObject[], meshNamespace: string): OwnName[] {
  if (config.ownNames === undefined) return [];
  const byName = new Map(shadowServices.filter((s) => record(s.metadata).namespace === meshNamespace).map((s) => [nameOf(s), s]));
  const names: OwnName[] = [];
  for (const key of config.ownNames) {
    const [namespace = '', name = ''] = key.split('/');
    const addresses = clusterIPsOf(byName.get(shadowServiceName(namespace, name)));
    if (addresses.length > 0) names.push({ namespace, name, addresses });
  }
  return names;
}

function clusterIPsOf(service: RawObject | undefined): string[] {
  const spec = record(service?.spec);
  const listed: unknown[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [spec.clusterIP];
  return listed.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
}
