import { expect } from 'chai';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { caSigner, createRootCa, trustBundle } from '../../../src/secure/ca.js';
import { DEFAULT_CERT_LIFETIME_MS } from '../../../src/secure/defaults.js';
import { parseSpiffeId } from '../../../src/secure/spiffe.js';
import { issueNodeCert, issueWorkloadCert, verifyAgent, verifyPeer } from '../../../src/secure/workload-cert.js';
import { generateKeyPair, issueCertificate } from '../../../src/secure/x509.js';

const HOUR = 60 * 60 * 1000;

describe('secure/workload-cert', () => {
  const ca = createRootCa('cluster.local');
  const bundle = trustBundle(ca);
  // Each test's own time: files load long before their tests run on a loaded machine, and a CA
  // made in a test is valid only from its own creation (minus the skew allowance).
  let now: number;
  beforeEach(() => {
    now = Date.now();
  });

  it('issues a 24 h leaf with the SPIFFE ID as its only URI SAN', () => {
    const cert = issueWorkloadCert(ca, 'shop/web', { now });
    const x509 = new X509Certificate(cert.certPem);
    expect(cert.spiffeId).to.equal('spiffe://cluster.local/ns/shop/sa/web');
    expect(x509.subjectAltName).to.equal('URI:spiffe://cluster.local/ns/shop/sa/web');
    expect(x509.ca).to.equal(false);
    expect(x509.keyUsage).to.have.members(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(x509.checkIssued(ca.cert)).to.equal(true);
    expect(x509.checkPrivateKey(createPrivateKey(cert.keyPem))).to.equal(true);
    expect(Date.parse(x509.validTo)).to.equal(cert.notAfter);
    expect(Date.parse(x509.validFrom)).to.equal(cert.notBefore);
    expect(cert.notAfter).to.be.within(now + DEFAULT_CERT_LIFETIME_MS - 1000, now + DEFAULT_CERT_LIFETIME_MS);
    expect(cert.notBefore).to.be.below(now);
    expect(cert.serialNumber).to.equal(x509.serialNumber);
  });

  it('honours a custom lifetime and rejects a non-positive one', () => {
    const cert = issueWorkloadCert(ca, 'shop/web', { now, lifetimeMs: HOUR });
    expect(cert.notAfter).to.be.within(now + HOUR - 1000, now + HOUR);
    expect(() => issueWorkloadCert(ca, 'shop/web', { lifetimeMs: 0 })).to.throw(RangeError);
    expect(() => issueWorkloadCert(ca, 'not-an-identity')).to.throw(/invalid identity/);
  });

  it('verifyPeer accepts a workload of the mesh and names it ns/sa', () => {
    const cert = issueWorkloadCert(ca, 'shop/web', { now });
    const result = verifyPeer(cert.certPem, bundle, now);
    expect(result).to.include({ ok: true, identity: 'shop/web' });
    expect(verifyPeer([Buffer.from(new X509Certificate(cert.certPem).raw)], bundle, now).ok).to.equal(true);
  });

  it('verifyPeer refuses a certificate of another CA', () => {
    const other = createRootCa('cluster.local');
    const result = verifyPeer(issueWorkloadCert(other, 'shop/web').certPem, bundle, now);
    expect(result).to.deep.include({ ok: false });
    expect(!result.ok && result.error).to.match(/not signed by a trusted mesh root/);
  });

  it('verifyPeer refuses a forged certificate naming the mesh root as issuer', () => {
    // Same issuer name as the real root, signed by the forger's own key.
    const forger = generateKeyPair();
    const signer = { ...caSigner(ca), ...forger };
    const keys = generateKeyPair();
    const pem = issueCertificate({
      organization: 'cluster.local', commonName: 'shop/web', uris: ['spiffe://cluster.local/ns/shop/sa/web'],
      publicKey: keys.publicKey, notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR), isCa: false,
    }, signer);
    expect(new X509Certificate(pem).issuer).to.equal(ca.cert.subject);
    expect(verifyPeer(pem, bundle, now).ok).to.equal(false);
  });

  it('verifyPeer refuses a self-signed certificate', () => {
    const keys = generateKeyPair();
    const pem = issueCertificate({
      organization: 'cluster.local', commonName: 'shop/web', uris: ['spiffe://cluster.local/ns/shop/sa/web'],
      publicKey: keys.publicKey, notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR), isCa: false,
    }, { organization: 'cluster.local', commonName: 'shop/web', ...keys });
    expect(verifyPeer(pem, bundle, now).ok).to.equal(false);
  });

  it('verifyPeer refuses an expired and a not-yet-valid certificate', () => {
    const cert = issueWorkloadCert(ca, 'shop/web', { now });
    const expired = verifyPeer(cert.certPem, bundle, cert.notAfter + 1000);
    expect(!expired.ok && expired.error).to.match(/expired/);
    const early = verifyPeer(cert.certPem, bundle, cert.notBefore - 1000);
    expect(!early.ok && early.error).to.match(/not valid before/);
  });

  it('verifyPeer refuses another trust domain', () => {
    const foreign = createRootCa('other.example');
    const cert = issueWorkloadCert(foreign, 'shop/web', { now });
    expect(verifyPeer(cert.certPem, trustBundle(foreign), now).ok).to.equal(true);
    const result = verifyPeer(cert.certPem, [...bundle, ...trustBundle(foreign)], now, 'cluster.local');
    expect(!result.ok && result.error).to.match(/trust domain "other.example"/);
  });

  it('verifyPeer refuses a missing, malformed or non-workload SPIFFE ID', () => {
    const leaf = (uris: string[]): string => issueCertificate({
      organization: 'cluster.local', commonName: 'x', uris, publicKey: generateKeyPair().publicKey,
      notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR), isCa: false,
    }, caSigner(ca));
    const missing = verifyPeer(leaf([]), bundle, now);
    expect(!missing.ok && missing.error).to.match(/exactly one URI SAN/);
    const two = verifyPeer(leaf(['spiffe://cluster.local/ns/a/sa/b', 'spiffe://cluster.local/ns/a/sa/c']), bundle, now);
    expect(!two.ok && two.error).to.match(/exactly one URI SAN/);
    const malformed = verifyPeer(leaf(['spiffe://cluster.local/namespace/a']), bundle, now);
    expect(!malformed.ok && malformed.error).to.match(/neither/);
    const http = verifyPeer(leaf(['https://cluster.local/ns/a/sa/b']), bundle, now);
    expect(!http.ok && http.error).to.match(/not a SPIFFE ID/);
    const agent = verifyPeer(issueNodeCert(ca, 'node-a', { now }).certPem, bundle, now);
    expect(!agent.ok && agent.error).to.match(/not a workload identity/);
  });

  it('verifyAgent accepts only the named node', () => {
    const cert = issueNodeCert(ca, 'node-b', { now });
    expect(cert.spiffeId).to.equal('spiffe://cluster.local/plexus/node/node-b');
    expect(verifyAgent(cert.certPem, bundle, now, 'node-b')).to.include({ ok: true, identity: 'node/node-b' });
    expect(verifyAgent(cert.certPem, bundle, now, 'node-c').ok).to.equal(false);
    expect(verifyAgent(issueWorkloadCert(ca, 'shop/web').certPem, bundle, now, 'node-b').ok).to.equal(false);
  });

  it('parseSpiffeId', () => {
    expect(parseSpiffeId('spiffe://cluster.local/ns/shop/sa/web')).to.deep.equal({
      ok: true, id: { kind: 'workload', trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' },
    });
    expect(parseSpiffeId('spiffe://td/plexus/node/n1.example')).to.deep.equal({
      ok: true, id: { kind: 'node', trustDomain: 'td', nodeName: 'n1.example' },
    });
    for (const bad of ['', 'spiffe://', 'spiffe://td', 'spiffe://TD/ns/a/sa/b', 'spiffe://td/ns/A/sa/b', 'spiffe://td/ns/a/sa/b/c', 'spiffe://td/ns//sa/b']) {
      expect(parseSpiffeId(bad).ok, bad).to.equal(false);
    }
  });
});
