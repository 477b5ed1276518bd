/** Discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>) for the served types. */
import { apiVersionOf, groupVersions, VERBS, type ResourceType } from './resources.js';

export function coreVersions(): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  };
}

function groupDocument(group: string, versions: readonly string[]): object {
  const list = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

export function groupList(types: readonly ResourceType[]): object {
  const groups = [...groupVersions(types).entries()].filter(([group]) => group !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([group, versions]) => groupDocument(group, versions)) };
}

export function group(types: readonly ResourceType[], name: string): object | null {
  const versions = groupVersions(types).get(name);
  return versions && name !== '' ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(name, versions) } : null;
}

export function resourceList(types: readonly ResourceType[], group: string, version: string): object | null {
  const served = types.filter((t) => t.group === group && t.version === version);
  if (served.length === 0) return null;
  const resources: object[] = [];
  for (const type of served) {
    resources.push({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...VERBS],
      ...(type.shortNames ? { shortNames: type.shortNames } : {}),
    });
    if (type.statusSubresource) {
      resources.push({ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
