/** keepUnchanged: a re-read file's unchanged objects stay the very objects of the version before. */
import { expect } from 'chai';
import type { LocatedObject } from '../../../src/manifests/documents.js';
import type { SourceLocation } from '../../../src/model/problem.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { type FileObjects, keepUnchanged } from '../../../src/providers/kept-objects.js';

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
});
