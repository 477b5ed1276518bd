/** keepUnchanged: a re-read file's unchanged objects stay the very objects of the version before. */
import { expect } from 'chai';
import type { LocatedObject } from '../../../src/manifests/documents.js';
import type { SourceLocation } from '../../../src/model/problem.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { isDeepStrictEqual } from 'node:util';
import { type FileObjects, keepUnchanged, sameValue } from '../../../src/providers/kept-objects.js';
import { seededRandom } from '../../helpers/prng.js';

const svc = (name: string, port: number): RawObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { ports: [{ port }] } });
const at = (line: number): SourceLocation => ({ file: 'shop.yaml', line });
const located = (object: RawObject, line: number): LocatedObject => ({ object, source: at(line) });

function before(...items: Array<[RawObject, number]>): FileObjects {
  return { objects: items.map(([object]) => object), sources: new Map(items.map(([object, line]) => [object, at(line)])) };
}

describe('providers: keepUnchanged (kept objects of a re-read file)', () => {
  it('keeps an equal object and its source; a changed one is the new object', () => {
    const web = svc('web', 80);
    const db = svc('db', 5432);
    const old = before([web, 1], [db, 9]);
    const kept = keepUnchanged(old, [located(svc('web', 80), 1), located(svc('db', 5433), 9)]);
    expect(kept[0]!.object).to.equal(web);
    expect(kept[0]!.source).to.equal(old.sources.get(web));
    expect(kept[1]!.object).to.not.equal(db);
    expect(kept[1]!.object).to.deep.equal(svc('db', 5433));
  });

  it('keeps an object that moved to another line, with its new source', () => {
    const web = svc('web', 80);
    const kept = keepUnchanged(before([web, 1]), [located(svc('db', 1), 1), located(svc('web', 80), 9)]);
    expect(kept[1]!.object).to.equal(web);
    expect(kept[1]!.source).to.deep.equal(at(9));
  });

  it('keeps each earlier object once when the same object is written twice', () => {
    const first = svc('web', 80);
    const kept = keepUnchanged(before([first, 1]), [located(svc('web', 80), 1), located(svc('web', 80), 9)]);
    expect(kept[0]!.object).to.equal(first);
    expect(kept[1]!.object).to.not.equal(first);
  });

  it('takes objects without metadata, and everything when there was no version before', () => {
    const odd: RawObject = { kind: 'Service', metadata: 'not a map' };
    const parsed = [located(odd, 1)];
    expect(keepUnchanged(undefined, parsed)).to.deep.equal(parsed);
    const kept = keepUnchanged(before([odd, 1]), [located({ kind: 'Service', metadata: 'not a map' }, 1)]);
    expect(kept[0]!.object).to.equal(odd);
  });

  it('compares parsed values as util.isDeepStrictEqual does (random values, and their mutations)', () => {
    const random = seededRandom(23);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const value = (depth: number): unknown => {
      switch (Math.floor(random() * (depth > 2 ? 5 : 8))) {
        case 0: return pick(['', 'a', '80', 'true']);
        case 1: return pick([0, -0, 1, 80, NaN, 2.5]);
        case 2: return pick([true, false]);
        case 3: return null;
        case 4: return undefined;
        case 5: case 6: return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(['a', 'b', 'port', 'name']), value(depth + 1)]));
        default: return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      }
    };
    const mutate = (v: unknown): unknown => {
      if (Array.isArray(v) && v.length > 0 && random() < 0.7) { const copy = [...v]; const i = Math.floor(random() * copy.length); copy[i] = mutate(copy[i]); return copy; }
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && random() < 0.7) {
        const copy: Record<string, unknown> = { ...v };
        const keys = Object.keys(copy);
        if (keys.length > 0) { const key = pick(keys); copy[key] = mutate(copy[key]); } else copy.x = 1;
        return copy;
      }
      return random() < 0.5 ? structuredClone(v) : value(3);
    };
    let equal = 0;
    for (let i = 0; i < 3000; i++) {
      const a = value(0);
      const b = random() < 0.4 ? structuredClone(a) : mutate(a);
      expect(sameValue(a, b), JSON.stringify([a, b])).to.equal(isDeepStrictEqual(a, b));
      if (isDeepStrictEqual(a, b)) equal++;
    }
    expect(equal).to.be.greaterThan(500);
    expect(sameValue({ a: 1, b: 2 }, { b: 2, a: 1 })).to.equal(true);
    expect(sameValue(new Map([[1, 2]]), new Map([[1, 3]]))).to.equal(false);
  });
});
