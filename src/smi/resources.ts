/**
 * The SMI kinds Plexus serves: group, versions (oldest first), names. The single source for
 * version checks, CRD manifests and API discovery.
 */

export const SPLIT_GROUP = 'split.smi-spec.io';
export const ACCESS_GROUP = 'access.smi-spec.io';
export const SPECS_GROUP = 'specs.smi-spec.io';

export type SmiGroup = typeof SPLIT_GROUP | typeof ACCESS_GROUP | typeof SPECS_GROUP;
export type SmiKind = 'TrafficSplit' | 'TrafficTarget' | 'HTTPRouteGroup' | 'TCPRoute' | 'UDPRoute';

export interface SmiResource {
  readonly group: SmiGroup;
  readonly kind: SmiKind;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  /** Served versions, oldest first; the last one is the storage version. */
  readonly versions: readonly string[];
}

export const SMI_RESOURCES: readonly SmiResource[] = [
  {
    group: SPLIT_GROUP, kind: 'TrafficSplit', listKind: 'TrafficSplitList', plural: 'trafficsplits',
    singular: 'trafficsplit', shortNames: ['ts'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'],
  },
  {
    group: ACCESS_GROUP, kind: 'TrafficTarget', listKind: 'TrafficTargetList', plural: 'traffictargets',
    singular: 'traffictarget', shortNames: ['tt'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3'],
  },
  {
    group: SPECS_GROUP, kind: 'HTTPRouteGroup', listKind: 'HTTPRouteGroupList', plural: 'httproutegroups',
    singular: 'httproutegroup', shortNames: ['htr'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'],
  },
  {
    group: SPECS_GROUP, kind: 'TCPRoute', listKind: 'TCPRouteList', plural: 'tcproutes',
    singular: 'tcproute', shortNames: ['tr'], versions: ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'],
  },
  {
    group: SPECS_GROUP, kind: 'UDPRoute', listKind: 'UDPRouteList', plural: 'udproutes',
    singular: 'udproute', shortNames: ['ur'], versions: ['v1alpha4'],
  },
];

const SMI_GROUPS: readonly string[] = [SPLIT_GROUP, ACCESS_GROUP, SPECS_GROUP];

/** `group/version` split at the last slash; null when `apiVersion` is not `group/version`. */
export function splitApiVersion(apiVersion: unknown): { group: string; version: string } | null {
  if (typeof apiVersion !== 'string') return null;
  const slash = apiVersion.lastIndexOf('/');
  if (slash <= 0) return null;
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** True for any version of an SMI group, so unknown versions are reported rather than ignored. */
export function isSmiApiVersion(apiVersion: unknown): boolean {
  const parts = splitApiVersion(apiVersion);
  return parts !== null && SMI_GROUPS.includes(parts.group);
}

/** The N of a `v1alphaN` version (all served SMI versions have this form), or 0. */
export function alphaNumber(version: string): number {
  const match = /^v1alpha([1-9])$/.exec(version);
  return match ? Number(match[1]) : 0;
}

/**
 * The served versions of `resource` other than `version`, nearest first (the newer of two at the
 * same distance first): the shapes an object served as `version` may really have been written in.
 */
export function otherVersionsNearestFirst(resource: SmiResource, version: string): string[] {
  const at = resource.versions.indexOf(version);
  const distance = (other: string): number => Math.abs(resource.versions.indexOf(other) - at);
  // filter() copies, so reverse() is safe; sort() is stable, so ties keep newest-first order.
  return resource.versions.filter((other) => other !== version).reverse().sort((a, b) => distance(a) - distance(b));
}
