import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CA_FILES, CaError, initCaDir, retireCaDir, rotateCaDir, type MeshCa } from '../../../src/secure/ca.js';
import { CaFolder } from '../../../src/secure/ca-folder.js';

describe('secure/CaFolder', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'plexus-ca-folder-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('picks up a rotation and a retirement on reload', async () => {
    const changes: MeshCa[] = [];
    const first = await initCaDir(dir, { trustDomain: 'cluster.local' });
    const folder = await CaFolder.open(dir, { onChange: (ca) => changes.push(ca) });
    expect(folder.trustBundle()).to.deep.equal([first.certPem]);
    expect(await folder.reload()).to.equal(false);

    const rotated = await rotateCaDir(dir);
    expect(await folder.reload()).to.equal(true);
    expect(folder.current.certPem).to.equal(rotated.certPem);
    expect(folder.trustBundle()).to.deep.equal([rotated.certPem, first.certPem]);

    await retireCaDir(dir, { force: true });
    expect(await folder.reload()).to.equal(true);
    expect(folder.trustBundle()).to.deep.equal([rotated.certPem]);
    expect(changes).to.have.length(2);
  });

  it('keeps the last good CA when the folder breaks', async () => {
    const ca = await initCaDir(dir, { trustDomain: 'cluster.local' });
    const errors: Error[] = [];
    const folder = await CaFolder.open(dir, { onError: (err) => errors.push(err) });
    await writeFile(join(dir, CA_FILES.cert), 'garbage');
    expect(await folder.reload()).to.equal(false);
    expect(folder.current.certPem).to.equal(ca.certPem);
    expect(errors[0]).to.be.instanceOf(CaError);
  });

  it('refuses to open a folder without a CA', async () => {
    let error: unknown;
    await CaFolder.open(dir).catch((err: unknown) => { error = err; });
    expect(error).to.be.instanceOf(CaError);
  });
});
