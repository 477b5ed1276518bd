/**
 * The compiler's memo helpers: a result holds for as long as what it was computed from is the
 * same, compared by identity (providers keep unchanged objects as the same references).
 */

/** A memo: `value` holds for as long as the inputs are the same (by identity, in order). */
export interface Memo<T> {
  readonly inputs: readonly unknown[];
  readonly value: T;
}

/** The same items, by identity, in the same order. */
export function sameItems(a: readonly unknown[] | null, b: readonly unknown[] | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Memos stamped with an older compile's generation belong to deleted objects: forgotten. */
export function dropStale(memos: Map<string, { generation: number }>, generation: number): void {
  for (const [key, memo] of memos) if (memo.generation !== generation) memos.delete(key);
}
