/**
 * What changed between two MeshConfigs' Services (pure): the compiler hands back an unchanged
 * Service as the very same MeshService object, in the same sorted place, so at 10,000 Services
 * the diff of one endpoint change is a walk of identity checks that finds one changed Service.
 * The runtime build and the listener plan apply the diff instead of redoing every Service.
 */
import type { MeshService } from './mesh-config.js';

export interface ServiceDiff {
  /** Services only in the later config. */
  readonly added: readonly MeshService[];
  /** Services only in the earlier config. */
  readonly removed: readonly MeshService[];
  /** Services of both (same key) whose MeshService is another object. */
  readonly changed: readonly { readonly before: MeshService; readonly after: MeshService }[];
}

/** The Services of `after` that differ from those of `before`, by key and object identity. */
export function diffServices(before: readonly MeshService[], after: readonly MeshService[]): ServiceDiff {
  if (before.length === after.length) {
    const aligned = alignedDiff(before, after);
    if (aligned !== null) return aligned;
  }
  return keyedDiff(before, after);
}

/** Position by position, while every position holds the same key on both sides; null when one does not. */
function alignedDiff(before: readonly MeshService[], after: readonly MeshService[]): ServiceDiff | null {
  const changed: { before: MeshService; after: MeshService }[] = [];
  for (let i = 0; i < after.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    if (a === b) continue;
    if (a.key !== b.key) return null;
    changed.push({ before: a, after: b });
  }
  return { added: [], removed: [], changed };
}

function keyedDiff(before: readonly MeshService[], after: readonly MeshService[]): ServiceDiff {
  const earlier = new Map<string, MeshService>();
  for (const service of before) earlier.set(service.key, service);
  const added: MeshService[] = [];
  const changed: { before: MeshService; after: MeshService }[] = [];
  for (const service of after) {
    const was = earlier.get(service.key);
    earlier.delete(service.key);
    if (was === undefined) added.push(service);
    else if (was !== service) changed.push({ before: was, after: service });
  }
  return { added, removed: [...earlier.values()], changed };
}
