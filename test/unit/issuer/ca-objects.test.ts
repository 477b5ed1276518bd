import { expect } from 'chai';
import { createRootCa, rotateRoot } from '../../../src/secure/ca.js';
import { caFromSecret, caSecretData, newCaSecret } from '../../../src/issuer/ca-objects.js';
import { bundleData, CA_BUNDLE_KEY, rootsFromBundle } from '../../../src/secure/cluster/ca-bundle.js';

describe('issuer/ca-objects: the CA Secret and the trust bundle', () => {
  const ca = createRootCa('mesh.test');

  it('an Opaque Secret holds ca.crt and ca.key (base64) and reads back as the same CA', () => {
    const secret = newCaSecret(ca, 'plexus');
    expect(secret.type).to.equal('Opaque');
    expect(Object.keys(secret.data).sort()).to.deep.equal(['ca.crt', 'ca.key']);
    expect(secret.metadata).to.deep.include({ name: 'plexus-ca', namespace: 'plexus', labels: { 'app.kubernetes.io/managed-by': 'plexus' } });
    const read = caFromSecret(secret, 'test');
    expect(read.certPem).to.equal(ca.certPem);
    expect(read.trustDomain).to.equal('mesh.test');
  });

  it('a kubernetes.io/tls Secret is read from tls.crt / tls.key, with ca-previous.crt during a rotation', () => {
    const rotated = rotateRoot(ca);
    const data = caSecretData(rotated, 'kubernetes.io/tls');
    expect(Object.keys(data).sort()).to.deep.equal(['ca-previous.crt', 'tls.crt', 'tls.key']);
    const read = caFromSecret({ type: 'kubernetes.io/tls', data }, 'test');
    expect(read.certPem).to.equal(rotated.certPem);
    expect(read.previousCertPem).to.equal(ca.certPem);
  });

  it('a Secret without the CA keys is refused, naming them', () => {
    expect(() => caFromSecret({ type: 'Opaque', data: {} }, 'Secret plexus/plexus-ca')).to.throw(/ca\.crt and ca\.key/);
  });

  it('the bundle lists every trusted root, the signing one first, and parses back', () => {
    const rotated = rotateRoot(ca);
    const roots = rootsFromBundle(bundleData(rotated)[CA_BUNDLE_KEY]!);
    expect(roots.map((pem) => pem.trim())).to.deep.equal([rotated.certPem.trim(), ca.certPem.trim()]);
  });
});
