/**
 * Applies the leader's NetworkPolicies (see network-policies.ts). The current Plexus policies are
 * listed (by label, all namespaces) only when the desired set changed, after a failure, or when
 * leadership was (re)gained, so a busy cluster's updates cost no extra API calls. A policy of the
 * same name that Plexus did not make is never touched: it is reported instead.
 */
import { ApiClient, KubeApiError } from '../kube/api-client.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLEXUS } from '../kube/labels.js';
import type { RawObject } from '../model/snapshot.js';
import { canonical, GUARDS_ANNOTATION, planNetworkPolicies, POLICY_SELECTOR, type MeshNetworkPolicy } from './network-policies.js';

export interface PolicyWriteFailure {
  /** The Service the policy guards. */
  readonly service: { readonly namespace: string; readonly name: string };
  readonly message: string;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function collection(namespace: string): string {
  return `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies`;
}

export class NetworkPolicyWriter {
  readonly #client: ApiClient;
  /** The desired set last applied without failures; null = list and apply on the next call. */
  #applied: string | null = null;

  constructor(client: ApiClient) {
    this.#client = client;
  }

  /** After gaining leadership: another leader may have written meanwhile. */
  reset(): void {
    this.#applied = null;
  }

  async keep(desired: readonly MeshNetworkPolicy[]): Promise<PolicyWriteFailure[]> {
    const wanted = canonical(desired);
    if (wanted === this.#applied) return [];
    const list = await this.#client.get('/apis/networking.k8s.io/v1/networkpolicies', { labelSelector: POLICY_SELECTOR }) as { items?: RawObject[] };
    const plan = planNetworkPolicies(desired, list.items ?? []);
    const failures: PolicyWriteFailure[] = [];
    let conflicted = false;
    const attempt = async (policy: { namespace: string; name: string; guards: string }, write: () => Promise<unknown>): Promise<void> => {
      try {
        await write();
      } catch (error) {
        // Gone already, or changed meanwhile (retried next round, from a fresh list).
        if (error instanceof KubeApiError && error.code === 404) return;
        if (error instanceof KubeApiError && error.code === 409 && error.reason === 'Conflict') {
          conflicted = true;
          return;
        }
        failures.push({ service: { namespace: policy.namespace, name: policy.guards }, message: `NetworkPolicy ${policy.name}: ${error instanceof Error ? error.message : String(error)}` });
      }
    };
    const ref = (p: MeshNetworkPolicy): { namespace: string; name: string; guards: string } =>
      ({ namespace: p.metadata.namespace, name: p.metadata.name, guards: p.metadata.annotations[GUARDS_ANNOTATION]! });
    for (const policy of plan.create) {
      await attempt(ref(policy), async () => {
        try {
          await this.#client.request('POST', collection(policy.metadata.namespace), { body: policy });
        } catch (error) {
          if (!(error instanceof KubeApiError && error.reason === 'AlreadyExists')) throw error;
          const existing = await this.#client.get(`${collection(policy.metadata.namespace)}/${encodeURIComponent(policy.metadata.name)}`) as RawObject;
          if (record(record(existing.metadata).labels)[MANAGED_BY_LABEL] !== MANAGED_BY_PLEXUS) {
            throw new Error(`a NetworkPolicy of that name that Plexus does not manage exists; its pods are not guarded (rename it)`);
          }
        }
      });
    }
    for (const { current, desired: policy } of plan.update) {
      const metadata = record(current.metadata);
      const body = { ...current, metadata: { ...metadata, annotations: { ...record(metadata.annotations), ...policy.metadata.annotations } }, spec: policy.spec };
      await attempt(ref(policy), () => this.#client.request('PUT', `${collection(policy.metadata.namespace)}/${encodeURIComponent(policy.metadata.name)}`, { body }));
    }
    for (const orphan of plan.delete) {
      const metadata = record(orphan.metadata);
      const namespace = String(metadata.namespace);
      const name = String(metadata.name);
      const preconditions = typeof metadata.uid === 'string' ? { uid: metadata.uid } : {};
      await attempt({ namespace, name, guards: String(record(metadata.annotations)[GUARDS_ANNOTATION] ?? name) },
        () => this.#client.request('DELETE', `${collection(namespace)}/${encodeURIComponent(name)}`, { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } }));
    }
    this.#applied = failures.length === 0 && !conflicted ? wanted : null;
    return failures;
  }
}
