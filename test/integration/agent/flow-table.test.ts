import { expect } from 'chai';
import { FlowTable } from '../../../src/node-agent/udp/flow-table.js';

describe('agent: UDP flow table', () => {
  it('evicts the least recently used flow when full', () => {
    const table = new FlowTable<{ lastActive: number; name: string }>(2);
    expect(table.add('a', { lastActive: 1, name: 'a' })).to.deep.equal([]);
    expect(table.add('b', { lastActive: 2, name: 'b' })).to.deep.equal([]);
    table.touch('a', 3);
    expect(table.add('c', { lastActive: 4, name: 'c' }).map((flow) => flow.name)).to.deep.equal(['b']);
    expect(table.size).to.equal(2);
  });

  it('expires the flows idle since the cutoff, oldest first', () => {
    const table = new FlowTable<{ lastActive: number; name: string }>(10);
    table.add('a', { lastActive: 1, name: 'a' });
    table.add('b', { lastActive: 2, name: 'b' });
    table.add('c', { lastActive: 3, name: 'c' });
    table.touch('a', 5);
    expect(table.expire(3).map((flow) => flow.name)).to.deep.equal(['b', 'c']);
    expect(table.touch('a', 6)?.name).to.equal('a');
    expect(table.size).to.equal(1);
  });
});
