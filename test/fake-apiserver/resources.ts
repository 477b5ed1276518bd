/**
 * The resource types the fake API server serves: the built-in kinds Plexus touches, plus the
 * kinds of every registered CustomResourceDefinition (in each served version).
 */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  /** PUT/PATCH on `.../status` changes only status; the main endpoint ignores status. */
  readonly statusSubresource: boolean;
  /** The object name rule the real server enforces for this kind. */
  readonly nameRule: NameRule;
  readonly shortNames?: readonly string[];
}

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label' | 'crd-name';

export const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;

export function apiVersionOf(type: { group: string; version: string }): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** Identifies a stored kind independently of the version it is read through. */
export function storageKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

function builtin(
  group: string, version: string, kind: string, plural: string, namespaced: boolean,
  statusSubresource = false, nameRule: NameRule = 'dns1123-subdomain', shortNames?: readonly string[],
): ResourceType {
  const type: ResourceType = { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, statusSubresource, nameRule };
  return shortNames ? { ...type, shortNames } : type;
}

export const BUILTIN_TYPES: readonly ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, false, 'dns1123-label', ['ns']),
  builtin('', 'v1', 'Service', 'services', true, true, 'dns1035-label', ['svc']),
  builtin('', 'v1', 'Endpoints', 'endpoints', true, false, 'dns1123-subdomain', ['ep']),
  builtin('', 'v1', 'Pod', 'pods', true, true, 'dns1123-subdomain', ['po']),
  builtin('', 'v1', 'Event', 'events', true, false, 'dns1123-subdomain', ['ev']),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, false, 'dns1123-subdomain', ['cm']),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, false, 'dns1123-subdomain', ['sa']),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, true, 'dns1123-subdomain', ['deploy']),
  builtin('apps', 'v1', 'DaemonSet', 'daemonsets', true, true, 'dns1123-subdomain', ['ds']),
  builtin('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  builtin('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, false, 'dns1123-subdomain', ['netpol']),
  builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, true, 'crd-name', ['crd', 'crds']),
];

/** The group/version preferred for each group: the first listed. */
export function groupVersions(types: readonly ResourceType[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const type of types) {
    const versions = groups.get(type.group) ?? [];
    if (!versions.includes(type.version)) versions.push(type.version);
    groups.set(type.group, versions);
  }
  return groups;
}
