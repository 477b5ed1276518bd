import { expect } from 'chai';
import { formatAuthority, parseAuthority } from '../../../src/secure/tunnel/protocol.js';

describe('secure/tunnel protocol', () => {
  it('parses ip:port authorities and nothing else', () => {
    expect(parseAuthority('10.0.0.5:8080')).to.deep.equal({ host: '10.0.0.5', port: 8080 });
    expect(parseAuthority('[fd00::5]:443')).to.deep.equal({ host: 'fd00::5', port: 443 });
    for (const bad of [undefined, '', 'web.shop:80', '10.0.0.5', '10.0.0.5:0', '10.0.0.5:70000', '999.0.0.1:80', 'fd00::5:80', '[x]:80']) {
      expect(parseAuthority(bad), String(bad)).to.equal(null);
    }
  });

  it('formats authorities, bracketing IPv6', () => {
    expect(formatAuthority('10.0.0.5', 80)).to.equal('10.0.0.5:80');
    expect(formatAuthority('fd00::5', 80)).to.equal('[fd00::5]:80');
  });
});
