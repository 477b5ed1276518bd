import { expect } from 'chai';
import { createRootCa, rotateRoot } from '../../../src/secure/ca.js';
import { secureFindings } from '../../../src/secure/health.js';
import { issueWorkloadCert } from '../../../src/secure/workload-cert.js';

const HOUR = 60 * 60 * 1000;

describe('secure/health', () => {
  const ca = createRootCa('cluster.local');
  const now = Date.now();
  const cert = issueWorkloadCert(ca, 'shop/web', { now, lifetimeMs: 24 * HOUR });

  it('finds nothing for a fresh root and certificate', () => {
    expect(secureFindings(ca, [cert], now)).to.deep.equal([]);
    expect(secureFindings(ca, [cert], now + 17 * HOUR)).to.deep.equal([]);
  });

  it('warns about a certificate that missed its renewals, errs on an expired one', () => {
    const late = secureFindings(ca, [cert], now + 20 * HOUR);
    expect(late).to.have.length(1);
    expect(late[0]).to.include({ severity: 'warning' });
    expect(late[0]!.message).to.match(/shop\/web .* not renewed/);
    expect(secureFindings(ca, [cert], now + 25 * HOUR)[0]).to.include({ severity: 'error' });
  });

  it('warns about a root in its last year and errs on an expired one', () => {
    const end = Date.parse(ca.cert.validTo);
    const warning = secureFindings(ca, [], end - 30 * 24 * HOUR);
    expect(warning).to.have.length(1);
    expect(warning[0]!.message).to.match(/plexus ca rotate/);
    expect(secureFindings(ca, [], end + 1000)[0]).to.include({ severity: 'error' });
    expect(secureFindings(rotateRoot(ca, new Date(now + 5 * 365 * 24 * HOUR)), [], end + 1000).map((f) => f.message)).to.deep.equal([
      `the old mesh root expired at ${new Date(end).toISOString()}`,
    ]);
  });
});
