import { expect } from 'chai';
import { createRootCa } from '../../../src/secure/ca.js';
import { CertificateStore } from '../../../src/secure/certificate-store.js';
import type { SecureMetrics } from '../../../src/secure/metrics.js';
import { issueWorkloadCert, type IssuedCert } from '../../../src/secure/workload-cert.js';

const HOUR = 60 * 60 * 1000;

/** A certificate source whose answers the test releases one by one. */
class ControlledSource {
  readonly requests: { identity: string; resolve: (cert: IssuedCert) => void; reject: (err: Error) => void }[] = [];
  readonly source = (identity: string): Promise<IssuedCert> => new Promise((resolve, reject) => {
    this.requests.push({ identity, resolve, reject });
  });
}

describe('secure/CertificateStore', () => {
  const ca = createRootCa('cluster.local');
  let now: number;
  const clock = (): number => now;
  const issue = (identity: string): Promise<IssuedCert> => Promise.resolve(issueWorkloadCert(ca, identity, { now, lifetimeMs: 24 * HOUR }));

  beforeEach(() => { now = Date.UTC(2030, 0, 1); });

  it('sync obtains the wanted identities and drops the others', async () => {
    const expiry: [string, number | null][] = [];
    const metrics: SecureMetrics = {
      certificateIssuance() {}, authorization() {}, tunnelConnection() {},
      certificateExpiry: (identity, notAfter) => expiry.push([identity, notAfter]),
    };
    const store = new CertificateStore({ source: issue, clock, metrics });
    await store.sync(['shop/web', 'shop/api']);
    expect(store.identities()).to.deep.equal(['shop/api', 'shop/web']);
    expect(store.get('shop/web')?.spiffeId).to.equal('spiffe://cluster.local/ns/shop/sa/web');
    await store.sync(['shop/api']);
    expect(store.identities()).to.deep.equal(['shop/api']);
    expect(store.get('shop/web')).to.equal(undefined);
    expect(expiry.map(([identity, at]) => [identity, at === null])).to.deep.equal([
      ['shop/web', false], ['shop/api', false], ['shop/web', true],
    ]);
  });

  it('renews at half the lifetime, not before', async () => {
    const store = new CertificateStore({ source: issue, clock });
    await store.sync(['shop/web']);
    const first = store.get('shop/web')!;
    // Counted from when it arrived (now), not from notBefore, which is backdated for clock skew.
    const half = now + (first.notAfter - now) / 2;
    expect(store.nextRenewalAt()).to.equal(half);
    now = half - 1000;
    await store.renewDue();
    expect(store.get('shop/web')!.serialNumber).to.equal(first.serialNumber);
    now = half;
    await store.renewDue();
    const second = store.get('shop/web')!;
    expect(second.serialNumber).not.to.equal(first.serialNumber);
    expect(second.notAfter).to.be.above(first.notAfter);
  });

  it('does not renew a short-lived certificate at once (the clock-skew backdating does not count)', async () => {
    const short = (identity: string): Promise<IssuedCert> => Promise.resolve(issueWorkloadCert(ca, identity, { now, lifetimeMs: 10_000 }));
    const store = new CertificateStore({ source: short, clock });
    await store.sync(['shop/web']);
    const first = store.get('shop/web')!;
    expect(store.nextRenewalAt()).to.equal(now + 5_000);
    now += 4_000;
    await store.renewDue();
    expect(store.get('shop/web')!.serialNumber).to.equal(first.serialNumber);
  });

  it('keeps serving the old certificate until the renewed one is in place', async () => {
    const controlled = new ControlledSource();
    const store = new CertificateStore({ source: controlled.source, clock });
    const syncing = store.sync(['shop/web']);
    controlled.requests[0]!.resolve(issueWorkloadCert(ca, 'shop/web', { now, lifetimeMs: 24 * HOUR }));
    await syncing;
    const old = store.get('shop/web')!;
    now += 13 * HOUR;
    const renewing = store.renewDue();
    const again = store.renewDue(); // a second pass while the first is pending asks only once
    expect(controlled.requests).to.have.length(2);
    expect(store.get('shop/web')).to.equal(old);
    controlled.requests[1]!.resolve(issueWorkloadCert(ca, 'shop/web', { now, lifetimeMs: 24 * HOUR }));
    await Promise.all([renewing, again]);
    expect(store.get('shop/web')!.serialNumber).not.to.equal(old.serialNumber);
  });

  it('a failed renewal keeps the old certificate until it expires', async () => {
    const errors: string[] = [];
    let failing = false;
    const source = (identity: string): Promise<IssuedCert> => (failing ? Promise.reject(new Error('CA unreachable')) : issue(identity));
    const store = new CertificateStore({ source, clock, onError: (identity, err) => errors.push(`${identity}: ${err.message}`) });
    await store.sync(['shop/web']);
    const old = store.get('shop/web')!;
    failing = true;
    now += 13 * HOUR;
    await store.renewDue();
    expect(errors).to.deep.equal(['shop/web: CA unreachable']);
    expect(store.get('shop/web')).to.equal(old);
    now = old.notAfter + 1;
    expect(store.get('shop/web')).to.equal(undefined);
    await store.renewDue();
    expect(store.identities()).to.deep.equal([]);
    failing = false;
    await store.renewDue();
    expect(store.get('shop/web')).not.to.equal(undefined);
  });

  it('does not keep a certificate whose pod left while it was being issued', async () => {
    const controlled = new ControlledSource();
    const store = new CertificateStore({ source: controlled.source, clock });
    const syncing = store.sync(['shop/web']);
    await store.sync([]);
    controlled.requests[0]!.resolve(issueWorkloadCert(ca, 'shop/web', { now }));
    await syncing;
    expect(store.identities()).to.deep.equal([]);
  });

  it('reports changes for listeners to pick up', async () => {
    const changed: string[] = [];
    const store = new CertificateStore({ source: issue, clock, onChange: (cert) => changed.push(cert.identity) });
    await store.sync(['shop/web']);
    now += 13 * HOUR;
    await store.renewDue();
    expect(changed).to.deep.equal(['shop/web', 'shop/web']);
  });
});
