import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCa } from '../../../src/secure/ca.js';
import { runPlexus } from '../../e2e/helpers/plexus.js';

describe('plexus ca (CLI)', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'plexus-ca-cli-'));
    dir = join(root, 'ca');
  });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  it('init, rotate, retire', async () => {
    const init = await runPlexus(['ca', 'init', '--dir', dir, '--trust-domain', 'mesh.example']);
    expect(init.code, init.stderr).to.equal(0);
    expect(init.stdout).to.match(/created the CA of trust domain mesh\.example/);
    expect((await stat(join(dir, 'ca.key'))).mode & 0o777).to.equal(0o600);
    expect((await stat(join(dir, 'ca.crt'))).mode & 0o777).to.equal(0o644);

    const again = await runPlexus(['ca', 'init', '--dir', dir]);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/already holds a CA/);

    const rotate = await runPlexus(['ca', 'rotate', '--dir', dir]);
    expect(rotate.code, rotate.stderr).to.equal(0);
    expect((await loadCa(dir)).previousCert).not.to.equal(null);

    const early = await runPlexus(['ca', 'retire', '--dir', dir]);
    expect(early.code).to.equal(2);
    expect(early.stderr).to.match(/may still be in use/);

    const retire = await runPlexus(['ca', 'retire', '--dir', dir, '--force']);
    expect(retire.code, retire.stderr).to.equal(0);
    const ca = await loadCa(dir);
    expect(ca.previousCert).to.equal(null);
    expect(ca.trustDomain).to.equal('mesh.example');
  });

  it('rotate without a CA says how to make one', async () => {
    const run = await runPlexus(['ca', 'rotate', '--dir', dir]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/plexus ca init/);
  });

  it('rejects an unknown action', async () => {
    const run = await runPlexus(['ca', 'destroy', '--dir', dir]);
    expect(run.code).to.equal(2);
  });
});
