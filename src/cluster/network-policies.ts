/**
 * The NetworkPolicies the leader writes in secure mode: one per meshed Service with a selector,
 * in the Service's namespace, selecting its pods and admitting ingress to them only from the
 * agent pods of the mesh namespace. Every mesh connection reaches a pod from an agent (the
 * caller's agent for pods on its node and for UDP, the destination agent after the tunnel), so
 * this leaves the mesh path open and closes the direct path (pod IP or ClusterIP). Effective only
 * where the network plugin enforces NetworkPolicy.
 *
 * Planning is pure; `network-policy-writer.ts` applies a plan.
 */
import { AGENT_POD_SELECTOR, MANAGED_BY_LABEL, MANAGED_BY_PLEXUS, type ManagedMetadata } from '../kube/labels.js';
import type { MeshConfig } from '../routing/mesh-config.js';
import type { RawObject } from '../model/snapshot.js';

/** On a Plexus NetworkPolicy: the Service it guards (in the same namespace). */
export const GUARDS_ANNOTATION = 'plexus.dev/guards-service';
export const POLICY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_PLEXUS}`;

export interface MeshNetworkPolicy {
  readonly apiVersion: 'networking.k8s.io/v1';
  readonly kind: 'NetworkPolicy';
  readonly metadata: ManagedMetadata;
  readonly spec: {
    readonly podSelector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly policyTypes: readonly ['Ingress'];
    readonly ingress: readonly [{ readonly from: readonly [{
      readonly namespaceSelector: { readonly matchLabels: Readonly<Record<string, string>> };
      readonly podSelector: { readonly matchLabels: Readonly<Record<string, string>> };
    }] }];
  };
}

export interface PolicyPlan {
  readonly create: readonly MeshNetworkPolicy[];
  readonly update: readonly { readonly current: RawObject; readonly desired: MeshNetworkPolicy }[];
  readonly delete: readonly RawObject[];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringMap(value: unknown): Record<string, string> | null {
  const entries = Object.entries(record(value));
  return entries.every(([, v]) => typeof v === 'string') ? Object.fromEntries(entries) as Record<string, string> : null;
}

/** `plexus-<service>`: Service names are DNS-1035 labels of at most 63 characters, so this is a valid name. */
export function policyName(service: string): string {
  return `plexus-${service}`;
}

/**
 * One policy per meshed Service of `config` whose Service object (in `objects`) has a non-empty
 * selector: a Service without one has no pods a policy could select.
 */
export function desiredNetworkPolicies(config: MeshConfig, objects: readonly RawObject[], meshNamespace: string): MeshNetworkPolicy[] {
  const selectors = new Map<string, Record<string, string>>();
  for (const object of objects) {
    if (object.kind !== 'Service') continue;
    const metadata = record(object.metadata);
    const selector = stringMap(record(object.spec).selector);
    if (selector !== null && Object.keys(selector).length > 0) selectors.set(`${String(metadata.namespace)}/${String(metadata.name)}`, selector);
  }
  const policies: MeshNetworkPolicy[] = [];
  for (const service of config.services) {
    const selector = selectors.get(`${service.namespace}/${service.name}`);
    if (selector === undefined) continue;
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: policyName(service.name),
        namespace: service.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_PLEXUS },
        annotations: { [GUARDS_ANNOTATION]: service.name },
      },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': meshNamespace } },
          podSelector: { matchLabels: { ...AGENT_POD_SELECTOR } },
        }] }],
      },
    });
  }
  return policies;
}

function keyOf(namespace: unknown, name: unknown): string {
  return `${String(namespace)}/${String(name)}`;
}

/** What to create, update and delete so the Plexus NetworkPolicies (`existing`, by label) are `desired`. */
export function planNetworkPolicies(desired: readonly MeshNetworkPolicy[], existing: readonly RawObject[]): PolicyPlan {
  const byKey = new Map(existing.map((p) => [keyOf(record(p.metadata).namespace, record(p.metadata).name), p]));
  const create: MeshNetworkPolicy[] = [];
  const update: { current: RawObject; desired: MeshNetworkPolicy }[] = [];
  const wanted = new Set<string>();
  for (const policy of desired) {
    const key = keyOf(policy.metadata.namespace, policy.metadata.name);
    wanted.add(key);
    const current = byKey.get(key);
    if (current === undefined) create.push(policy);
    else if (!matches(current, policy)) update.push({ current, desired: policy });
  }
  const remove = existing.filter((p) => !wanted.has(keyOf(record(p.metadata).namespace, record(p.metadata).name)));
  return { create, update, delete: remove };
}

function matches(current: RawObject, desired: MeshNetworkPolicy): boolean {
  const metadata = record(current.metadata);
  const annotations = record(metadata.annotations);
  return annotations[GUARDS_ANNOTATION] === desired.metadata.annotations[GUARDS_ANNOTATION]
    && canonical(current.spec) === canonical(desired.spec);
}

/** JSON with sorted keys: the API server may return fields in another order than written. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
