/**
 * Which meshed Services a change set can reach (pure). The catalog reader reports the objects it
 * replaced; when every one of them is an EndpointSlice or an Endpoints object, only the Services
 * they belong to, and the TrafficSplit roots that send to those Services as backends, can
 * assemble differently: nothing else the compile computes reads endpoints (Gateway API routes
 * do, so a catalog with routes is compiled whole). Any other kind of change, or a catalog built
 * anew, reaches everything (null).
 */
import type { CatalogChange } from './catalog.js';
import type { CompileOptions } from './compile-options.js';
import { objectKey } from './raw.js';
import type { ActiveSplit } from './splits.js';

/** The Service keys whose assembly the changes can reach; null = every Service. */
export function endpointScope(
  changes: readonly CatalogChange[] | null, rootsByBackend: () => ReadonlyMap<string, readonly string[]>,
): Set<string> | null {
  if (changes === null) return null;
  const keys = new Set<string>();
  for (const { after } of changes) {
    if (after.kind === 'EndpointSlice') {
      if (after.service !== null) keys.add(after.service);
    } else if (after.kind === 'Endpoints') {
      keys.add(after.service);
    } else {
      return null;
    }
  }
  if (keys.size === 0) return keys;
  const roots = rootsByBackend();
  for (const key of [...keys]) for (const root of roots.get(key) ?? []) keys.add(root);
  return keys;
}

/** The roots of the active splits, by the key of each of their backend Services. */
export function rootsByBackend(splits: ReadonlyMap<string, ActiveSplit>): Map<string, string[]> {
  const roots = new Map<string, string[]>();
  for (const [root, { split }] of splits) {
    for (const backend of split.backends) {
      const key = objectKey(split.namespace, backend.service);
      const list = roots.get(key);
      if (list) list.push(root);
      else roots.set(key, [root]);
    }
  }
  return roots;
}

/** Whether two compiles ask for the same thing, `previous` aside (the allocator's memo judges that). */
export function sameCompileScope(a: CompileOptions, b: CompileOptions): boolean {
  return a.nodeName === b.nodeName && a.meshDomain === b.meshDomain && a.vipCidr === b.vipCidr
    && (a.deriveEndpointsFromPods === true) === (b.deriveEndpointsFromPods === true)
    && (a.listenerPorts === b.listenerPorts
      || (a.listenerPorts !== null && b.listenerPorts !== null && a.listenerPorts.min === b.listenerPorts.min && a.listenerPorts.max === b.listenerPorts.max));
}
