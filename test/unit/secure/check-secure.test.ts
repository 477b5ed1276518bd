import { expect } from 'chai';
import { secureViewOf } from '../../../src/cli/commands/check-secure.js';

describe('plexus check: an agent\'s secure section', () => {
  it('reads permissive and findings from /config, parsed or not; null without secure mode', () => {
    const view = { secure: { permissive: true, findings: [{ severity: 'warning', message: 'the certificate of shop/web expires soon' }, { bogus: 1 }] } };
    expect(secureViewOf(view)).to.deep.equal({ permissive: true, findings: [{ severity: 'warning', message: 'the certificate of shop/web expires soon' }] });
    expect(secureViewOf(JSON.stringify(view))?.permissive).to.equal(true);
    expect(secureViewOf({ generation: 3 })).to.equal(null);
    expect(secureViewOf('not json')).to.equal(null);
  });
});
