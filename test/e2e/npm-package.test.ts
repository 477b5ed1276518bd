/**
 * The `plexus` CLI as operators install it (`npm install -g plexus-<version>.tgz`): the tarball
 * `npm pack` makes holds what the binary needs, and that binary, run from the unpacked tarball
 * with the dependencies beside it, works: --version, config on the shipped example, --help.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

describe('the npm package (npm pack, the real binary from the tarball)', function () {
  this.timeout(120_000);
  let dir: string;
  let files: string[];
  let packageDir: string;
  const version = (): Promise<string> => run(process.execPath, ['-p', 'require("./package.json").version'], { cwd: REPO_ROOT }).then((r) => r.stdout.trim());

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-pack-'));
    // --ignore-scripts: pack this build (npm test built it) instead of building again.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, maxBuffer: 16 << 20 });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path);
    await run('tar', ['-xzf', join(dir, packed!.filename), '-C', dir]);
    packageDir = join(dir, 'package');
    // What `npm install` would put beside it: the same dependencies.
    await symlink(join(REPO_ROOT, 'node_modules'), join(packageDir, 'node_modules'), 'dir');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is named plexus-<version>.tgz and holds the binary, its compiled sources, examples, manifests and docs; no tests', async () => {
    expect(await readdir(dir)).to.include(`plexus-${await version()}.tgz`);
    for (const path of ['bin/plexus.js', 'dist/src/cli/bin.js', 'dist/src/cli/main.js', 'examples/shop/web.yaml', 'manifests/40-daemonset.yaml', 'docs/cli.md', 'README.md', 'package.json']) {
      expect(files, path).to.include(path);
    }
    expect(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('src/') || f.startsWith('test/'))).to.deep.equal([]);
  });

  it('runs from the unpacked tarball: --version, --help, and config on the shipped example', async () => {
    const bin = join(packageDir, 'bin', 'plexus.js');
    expect((await run(process.execPath, [bin, '--version'])).stdout.trim()).to.equal(await version());
    expect((await run(process.execPath, [bin, '--help'])).stdout).to.contain('plexus agent');
    const config = await run(process.execPath, [bin, 'config', '--manifests', join(packageDir, 'examples', 'shop')], { cwd: tmpdir() });
    expect(config.stdout).to.match(/4 meshed services/);
  });
});
