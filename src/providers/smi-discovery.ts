/**
 * Which version of each custom kind Plexus reads (SMI, and the Gateway API routes) the cluster
 * serves. One version per kind is watched (the API server serves the same objects through every
 * served version): the newest one Plexus reads.
 */
import { SMI_RESOURCES } from '../smi/resources.js';
import { GATEWAY_GROUP, GATEWAY_RESOURCES } from '../gateway/resources.js';
import { ApiClient, KubeApiError } from '../kube/api-client.js';

/** A CRD-served kind: its group, plural and the versions Plexus reads (oldest first). */
export interface CustomResource {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly versions: readonly string[];
}

export const CUSTOM_RESOURCES: readonly CustomResource[] = [...SMI_RESOURCES, ...GATEWAY_RESOURCES];

export type SmiServing =
  | { readonly resource: CustomResource; readonly version: string }
  | { readonly resource: CustomResource; readonly version: null; readonly reason: string };

interface ResourceListBody {
  readonly resources?: readonly { readonly name?: unknown }[];
}

interface GroupBody {
  readonly versions?: readonly { readonly version?: unknown }[];
}

/** Asks the API server; throws only when it cannot be reached (not for a missing CRD). */
export async function discoverSmi(client: ApiClient, signal?: AbortSignal, resources: readonly CustomResource[] = CUSTOM_RESOURCES): Promise<SmiServing[]> {
  const groups = new Map<string, Promise<Map<string, Set<string>> | null>>();
  const servedIn = (group: string): Promise<Map<string, Set<string>> | null> => {
    let served = groups.get(group);
    if (!served) {
      served = groupResources(client, group, signal);
      groups.set(group, served);
    }
    return served;
  };
  const result: SmiServing[] = [];
  for (const resource of resources) {
    const served = await servedIn(resource.group);
    if (!served) {
      const crds = resource.group === GATEWAY_GROUP ? 'the Gateway API CRDs' : 'the SMI CRDs';
      result.push({ resource, version: null, reason: `API group ${resource.group} is not served (are ${crds} installed?)` });
      continue;
    }
    const version = [...resource.versions].reverse().find((v) => served.get(v)?.has(resource.plural));
    result.push(version
      ? { resource, version }
      : { resource, version: null, reason: `${resource.plural}.${resource.group} is not served in any version Plexus reads (${resource.versions.join(', ')})` });
  }
  return result;
}

/** version → plurals served, or null when the group is unknown. */
async function groupResources(client: ApiClient, group: string, signal?: AbortSignal): Promise<Map<string, Set<string>> | null> {
  let body: GroupBody;
  try {
    body = (await client.get(`/apis/${group}`, {}, signal)) as GroupBody;
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return null;
    throw error;
  }
  const served = new Map<string, Set<string>>();
  for (const entry of body.versions ?? []) {
    if (typeof entry.version !== 'string') continue;
    try {
      const list = (await client.get(`/apis/${group}/${entry.version}`, {}, signal)) as ResourceListBody;
      served.set(entry.version, new Set((list.resources ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string')));
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 404)) throw error;
    }
  }
  return served;
}
