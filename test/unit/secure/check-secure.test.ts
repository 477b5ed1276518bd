import { expect } from 'chai';
import { secureViewOf } from '../../../src/cli/commands/check-secure.js';

describe('plexus check: an agent\'s secure section', () => {
  it('reads permissive and the counted findings from the public /readyz, parsed or not; null without secure mode', () => {
    const view = { ready: true, secure: { permissive: true, findings: { error: 0, warning: 1 } } };
    expect(secureViewOf(view)).to.deep.equal({ permissive: true, findings: { error: 0, warning: 1 } });
    expect(secureViewOf({ secure: { permissive: false, findings: { error: 'x' } } })).to.deep.equal({ permissive: false, findings: { error: 0, warning: 0 } });
    expect(secureViewOf(JSON.stringify(view))?.permissive).to.equal(true);
    expect(secureViewOf({ generation: 3 })).to.equal(null);
    expect(secureViewOf('not json')).to.equal(null);
  });
});
