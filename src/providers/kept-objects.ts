/**
 * A re-read manifest file's objects, with each object that did not change kept as the very
 * object (and source location) of the version before. The compiler remembers its work per object
 * identity, so an edit to one object of a file of hundreds recompiles that object only, and the
 * Services the file holds but the edit left alone stay the same objects all the way to the runtime.
 */
import { isDeepStrictEqual } from 'node:util';
import type { LocatedObject } from '../manifests/documents.js';
import type { SourceLocation } from '../model/problem.js';
import type { RawObject } from '../model/snapshot.js';

export interface FileObjects {
  readonly objects: readonly RawObject[];
  readonly sources: ReadonlyMap<RawObject, SourceLocation>;
}

/** `parsed`, where an object equal to one of `before` (same kind and name, same content) is that earlier object. */
export function keepUnchanged(before: FileObjects | undefined, parsed: readonly LocatedObject[]): LocatedObject[] {
  if (before === undefined || before.objects.length === 0) return [...parsed];
  const earlier = new Map<string, RawObject[]>();
  for (const object of before.objects) {
    const key = identityKey(object);
    const list = earlier.get(key);
    if (list) list.push(object);
    else earlier.set(key, [object]);
  }
  return parsed.map((located) => {
    const candidates = earlier.get(identityKey(located.object));
    const at = candidates ? candidates.findIndex((object) => sameValue(object, located.object)) : -1;
    if (candidates === undefined || at < 0) return located;
    const [object] = candidates.splice(at, 1) as [RawObject];
    const source = before.sources.get(object);
    const same = source !== undefined && source.file === located.source.file && source.line === located.source.line;
    return { object, source: same ? source : located.source };
  });
}

/**
 * `util.isDeepStrictEqual` for parsed manifest values (plain objects and arrays of strings,
 * numbers, booleans and null; no symbol keys), without its generic machinery: at 10,000 Services a re-read file
 * compares hundreds of objects per change, and the generic comparison is most of that change's
 * CPU before the JIT has warmed to it. Anything else (another prototype) is left to it.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Object.is(a, b);
  const prototype = Object.getPrototypeOf(a) as unknown;
  if (prototype !== Object.getPrototypeOf(b)) return false;
  if (prototype === Array.prototype) {
    const x = a as readonly unknown[];
    const y = b as readonly unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameValue(x[i], y[i])) return false;
    return true;
  }
  if (prototype !== Object.prototype && prototype !== null) return isDeepStrictEqual(a, b);
  const x = a as Readonly<Record<string, unknown>>;
  const y = b as Readonly<Record<string, unknown>>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const key of keys) if (!Object.hasOwn(y, key) || !sameValue(x[key], y[key])) return false;
  return true;
}

/** apiVersion, kind, namespace and name, whatever their types (a malformed object still has a key). */
function identityKey(object: RawObject): string {
  const metadata = typeof object.metadata === 'object' && object.metadata !== null ? object.metadata as Record<string, unknown> : {};
  return `${String(object.apiVersion)}\n${String(object.kind)}\n${String(metadata.namespace)}\n${String(metadata.name)}`;
}
