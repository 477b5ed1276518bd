import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CA_FILES, CaError, caFromFiles, caToFiles, createRootCa, initCaDir, loadCa, retireCaDir, rotateCaDir, trustBundle,
} from '../../../src/secure/ca.js';
import { issueWorkloadCert, verifyPeer } from '../../../src/secure/workload-cert.js';

const DAY = 24 * 60 * 60 * 1000;

describe('secure/ca', () => {
  let dir: string;
  beforeEach(async () => { dir = join(await mkdtemp(join(tmpdir(), 'plexus-ca-')), 'ca'); });
  afterEach(async () => { await rm(join(dir, '..'), { recursive: true, force: true }); });

  it('creates a self-signed P-256 root that records its trust domain', () => {
    const ca = createRootCa('example.org');
    expect(ca.trustDomain).to.equal('example.org');
    expect(ca.cert.ca).to.equal(true);
    expect(ca.cert.subjectAltName).to.equal('URI:spiffe://example.org');
    expect(ca.cert.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(ca.cert.verify(ca.cert.publicKey)).to.equal(true);
    expect(trustBundle(ca)).to.deep.equal([ca.certPem]);
  });

  it('refuses an invalid trust domain', () => {
    expect(() => createRootCa('Not A Domain')).to.throw(CaError, /invalid trust domain/);
  });

  it('init writes ca.crt 0644 and ca.key 0600, and loadCa reads them back', async () => {
    const created = await initCaDir(dir, { trustDomain: 'cluster.local' });
    expect((await stat(join(dir, CA_FILES.cert))).mode & 0o777).to.equal(0o644);
    expect((await stat(join(dir, CA_FILES.key))).mode & 0o777).to.equal(0o600);
    const loaded = await loadCa(dir);
    expect(loaded.certPem).to.equal(created.certPem);
    expect(loaded.trustDomain).to.equal('cluster.local');
    expect(loaded.previousCert).to.equal(null);
  });

  it('init refuses to overwrite an existing CA unless forced', async () => {
    const first = await initCaDir(dir, { trustDomain: 'cluster.local' });
    await expectRejection(initCaDir(dir, { trustDomain: 'cluster.local' }), /already holds a CA/);
    expect((await loadCa(dir)).certPem).to.equal(first.certPem);
    const replaced = await initCaDir(dir, { trustDomain: 'cluster.local', force: true });
    expect(replaced.certPem).not.to.equal(first.certPem);
    expect((await loadCa(dir)).certPem).to.equal(replaced.certPem);
  });

  it('rotate keeps the old root trusted: certificates of both roots verify until retire', async () => {
    const old = await initCaDir(dir, { trustDomain: 'cluster.local' });
    const oldCert = issueWorkloadCert(old, 'shop/web');
    const rotated = await rotateCaDir(dir);
    const newCert = issueWorkloadCert(rotated, 'shop/web');
    const bundle = trustBundle(await loadCa(dir));
    expect(bundle).to.deep.equal([rotated.certPem, old.certPem]);
    expect(verifyPeer(oldCert.certPem, bundle, Date.now()).ok).to.equal(true);
    expect(verifyPeer(newCert.certPem, bundle, Date.now()).ok).to.equal(true);
    expect(verifyPeer(newCert.certPem, [old.certPem], Date.now()).ok).to.equal(false);
    expect((await stat(join(dir, CA_FILES.previousCert))).mode & 0o777).to.equal(0o644);
    expect((await stat(join(dir, CA_FILES.key))).mode & 0o777).to.equal(0o600);

    await expectRejection(rotateCaDir(dir), /already in progress/);
    await expectRejection(retireCaDir(dir), /may still be in use/);
    const retired = await retireCaDir(dir, { now: new Date(Date.now() + DAY + 60_000) });
    expect(trustBundle(retired)).to.deep.equal([rotated.certPem]);
    const after = trustBundle(await loadCa(dir));
    expect(after).to.deep.equal([rotated.certPem]);
    expect(verifyPeer(oldCert.certPem, after, Date.now()).ok).to.equal(false);
    expect(verifyPeer(newCert.certPem, after, Date.now()).ok).to.equal(true);
    await expectRejection(retireCaDir(dir), /no old root/);
  });

  it('retire --force retires at once', async () => {
    await initCaDir(dir, { trustDomain: 'cluster.local' });
    await rotateCaDir(dir);
    const retired = await retireCaDir(dir, { force: true });
    expect(retired.previousCert).to.equal(null);
  });

  it('loadCa names what is wrong with the folder', async () => {
    await expectRejection(loadCa(dir), /no CA here/);
    const ca = await initCaDir(dir, { trustDomain: 'cluster.local' });
    const other = caToFiles(createRootCa('cluster.local'));
    await writeFile(join(dir, CA_FILES.key), other[CA_FILES.key]!);
    await expectRejection(loadCa(dir), /does not belong/);
    await writeFile(join(dir, CA_FILES.cert), 'garbage');
    await expectRejection(loadCa(dir), /ca\.crt: not a certificate/);
    expect(caFromFiles(caToFiles(ca), 'secret plexus/ca').certPem).to.equal(ca.certPem);
    expect(await readFile(join(dir, CA_FILES.key), 'utf8')).to.match(/BEGIN PRIVATE KEY/);
  });

  it('refuses a leaf certificate as a CA', () => {
    const ca = createRootCa('cluster.local');
    const leaf = issueWorkloadCert(ca, 'shop/web');
    expect(() => caFromFiles({ [CA_FILES.cert]: leaf.certPem, [CA_FILES.key]: leaf.keyPem }, 'x')).to.throw(CaError, /not a CA/);
  });
});

async function expectRejection(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(CaError);
    expect((err as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a rejection matching ${pattern}`);
}
