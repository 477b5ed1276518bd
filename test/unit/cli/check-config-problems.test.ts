import { expect } from 'chai';
import { problemCountsOf, unreadyReason } from '../../../src/cli/commands/check.js';

describe('plexus check: config problems body handling (the agent\'s public /readyz)', () => {
  const readyz = { ready: true, generation: 3, problems: 3, problemCounts: { error: 1, warning: 2 } };

  it('reads the problem counts from a body the client already parsed as an object', () => {
    expect(problemCountsOf(readyz)).to.deep.equal({ error: 1, warning: 2 });
  });

  it('reads the problem counts from a body handed over as text', () => {
    expect(problemCountsOf(JSON.stringify(readyz))).to.deep.equal({ error: 1, warning: 2 });
  });

  it('answers null for something without counts', () => {
    expect(problemCountsOf('<html>')).to.equal(null);
    expect(problemCountsOf({ ready: true, problems: 2 })).to.equal(null);
    expect(problemCountsOf({ problemCounts: { error: 'x' } })).to.equal(null);
    expect(problemCountsOf(undefined)).to.equal(null);
  });

  it('gives the reason of an unready agent, parsed or text', () => {
    expect(unreadyReason({ reason: 'no config yet' })).to.equal('no config yet');
    expect(unreadyReason(JSON.stringify({ message: 'syncing' }))).to.equal('syncing');
    expect(unreadyReason('not ready\n')).to.equal('not ready');
    expect(unreadyReason(undefined)).to.equal('no reason given');
  });
});
