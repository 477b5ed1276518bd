import { expect } from 'chai';
import { problemsOf, unreadyReason } from '../../../src/cli/commands/check.js';

describe('plexus check: config problems body handling', () => {
  const config = { problems: [{ severity: 'error', kind: 'Service', message: 'port clash' }, { severity: 'warning', kind: 'HTTPRouteGroup', message: 'unused' }] };

  it('reads the problems from a body the client already parsed as an object', () => {
    const problems = problemsOf(config);
    expect(problems).to.have.length(2);
    expect(problems![0]!.message).to.equal('port clash');
  });

  it('reads the problems from a body handed over as text', () => {
    expect(problemsOf(JSON.stringify(config))).to.have.length(2);
    expect(problemsOf(JSON.stringify({ config }))).to.have.length(2);
  });

  it('answers null for something that is not a config', () => {
    expect(problemsOf('<html>')).to.equal(null);
    expect(problemsOf({ hello: 1 })).to.equal(null);
    expect(problemsOf(undefined)).to.equal(null);
  });

  it('gives the reason of an unready agent, parsed or text', () => {
    expect(unreadyReason({ reason: 'no config yet' })).to.equal('no config yet');
    expect(unreadyReason(JSON.stringify({ message: 'syncing' }))).to.equal('syncing');
    expect(unreadyReason('not ready\n')).to.equal('not ready');
    expect(unreadyReason(undefined)).to.equal('no reason given');
  });
});
