/**
 * An immutable map that a new version derives from an older one by a few changes, sharing the
 * older one's entries: a base Map (never edited once shared) under a small overlay of the keys
 * set or deleted since. At 10,000 Services, a runtime generation that changes one Service costs
 * that Service's entries, not a copy of 10,000 (and a snapshot's source locations, not 31,000). The overlay is folded into a new base once it
 * holds more than a fraction of the entries, so a lookup stays two Map reads at most and the
 * copies are amortised over many generations.
 */

/** Overlay entries beyond which a derived map gets a base of its own: 1/8 of the entries (and at least 64). */
const FOLD_RATIO = 8;
const FOLD_MIN = 64;

/** A deleted key in the overlay. */
const DELETED = Symbol('deleted');

export class LayeredMap<K, V extends object> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #overlay: ReadonlyMap<K, V | typeof DELETED>;
  readonly size: number;

  /** A map holding `entries`. */
  static of<K, V extends object>(entries: Iterable<readonly [K, V]>): LayeredMap<K, V> {
    const base = new Map<K, V>();
    for (const [key, value] of entries) base.set(key, value);
    return new LayeredMap(base, new Map(), base.size);
  }

  private constructor(base: ReadonlyMap<K, V>, overlay: ReadonlyMap<K, V | typeof DELETED>, size: number) {
    this.#base = base;
    this.#overlay = overlay;
    this.size = size;
  }

  /** A new map: this one with `set` entries set and `deleted` keys removed (deletions first). */
  with(set: Iterable<readonly [K, V]>, deleted: Iterable<K> = []): LayeredMap<K, V> {
    const overlay = new Map(this.#overlay);
    let size = this.size;
    const present = (key: K): boolean => (overlay.has(key) ? overlay.get(key) !== DELETED : this.#base.has(key));
    for (const key of deleted) {
      if (!present(key)) continue;
      size--;
      if (this.#base.has(key)) overlay.set(key, DELETED);
      else overlay.delete(key);
    }
    for (const [key, value] of set) {
      if (!present(key)) size++;
      overlay.set(key, value);
    }
    if (overlay.size > Math.max(FOLD_MIN, size / FOLD_RATIO)) {
      return LayeredMap.of(new LayeredMap(this.#base, overlay, size).entries());
    }
    return new LayeredMap(this.#base, overlay, size);
  }

  get(key: K): V | undefined {
    const over = this.#overlay.get(key);
    if (over === undefined) return this.#base.get(key);
    return over === DELETED ? undefined : over;
  }

  has(key: K): boolean {
    const over = this.#overlay.get(key);
    if (over !== undefined) return over !== DELETED;
    return this.#base.has(key);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [key, value] of this.#base) if (!this.#overlay.has(key)) yield [key, value];
    for (const [key, value] of this.#overlay) if (value !== DELETED) yield [key, value];
  }

  *keys(): IterableIterator<K> {
    for (const [key] of this.entries()) yield key;
  }
}
