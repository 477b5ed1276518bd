import { expect } from 'chai';
import { LayeredMap } from '../../../src/model/layered-map.js';
import { foldChanges, type RawObject, type Snapshot } from '../../../src/model/snapshot.js';
import { seededRandom } from '../../helpers/prng.js';

describe('model: LayeredMap', () => {
  it('derives maps that agree with a plain Map after random sets and deletes, and leaves the older ones as they were', () => {
    const random = seededRandom(42);
    const plain = new Map<string, { v: number }>();
    for (let i = 0; i < 200; i++) plain.set(`k${i}`, { v: i });
    let layered = LayeredMap.of(plain);
    for (let step = 0; step < 300; step++) {
      const before = layered;
      const snapshot = [...before.entries()];
      const set: [string, { v: number }][] = [];
      const deleted: string[] = [];
      for (let n = Math.floor(random() * 8); n > 0; n--) {
        const key = `k${Math.floor(random() * 260)}`;
        if (random() < 0.4) deleted.push(key);
        else set.push([key, { v: step }]);
      }
      layered = before.with(set, deleted);
      for (const key of deleted) plain.delete(key);
      for (const [key, value] of set) plain.set(key, value);
      expect(layered.size).to.equal(plain.size);
      expect(new Map(layered.entries())).to.deep.equal(plain);
      for (const key of ['k0', 'k150', 'k255', 'k999']) {
        expect(layered.get(key)).to.equal(plain.get(key));
        expect(layered.has(key)).to.equal(plain.has(key));
      }
      expect([...before.entries()]).to.deep.equal(snapshot);
    }
  });
});

describe('model: foldChanges', () => {
  const o = (name: string): RawObject => ({ kind: 'Service', metadata: { name } });
  const [a, b, c, d] = [o('a'), o('b'), o('c'), o('d')];
  const v0 = {};
  const v1 = {};
  const older: Snapshot = { objects: [b, c], version: v1, changes: { since: v0, removed: [a], added: [c] } };

  it('folds a dropped snapshot\'s changes into the newer one: an object that came and left is in neither list', () => {
    const newer: Snapshot = { objects: [b, d], version: {}, changes: { since: v1, removed: [c], added: [d] } };
    expect(foldChanges(older, newer).changes).to.deep.equal({ since: v0, removed: [a], added: [d] });
  });

  it('gives the newer snapshot without changes when they do not follow the dropped one', () => {
    const newer: Snapshot = { objects: [b, d], version: {}, changes: { since: {}, removed: [c], added: [d] } };
    const folded = foldChanges(older, newer);
    expect(folded.changes).to.equal(undefined);
    expect(folded.objects).to.equal(newer.objects);
  });
});
