import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifestDir, readManifestFile } from '../../../src/manifests/read.js';

function service(name: string): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
}

function names(objects: readonly Readonly<Record<string, unknown>>[]): string[] {
  return objects.map((o) => (o['metadata'] as { name: string }).name);
}

describe('manifests/read: a folder of manifests to a snapshot', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-manifests-'));
  });

  afterEach(async () => {
    await chmod(join(dir, 'locked'), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads nested folders in sorted order, only manifest extensions, with sources', async () => {
    await mkdir(join(dir, 'b', 'deep'), { recursive: true });
    await writeFile(join(dir, 'z.yaml'), service('z'));
    await writeFile(join(dir, 'a.yml'), `${service('a1')}---\n${service('a2')}`);
    await writeFile(join(dir, 'b', 'deep', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' } }));
    await writeFile(join(dir, 'b', 'm.YAML'), service('m'));
    await writeFile(join(dir, 'README.md'), '# not a manifest');
    await writeFile(join(dir, 'notes.txt'), 'apiVersion: v1');

    const { snapshot, errors, files } = await readManifestDir(dir);
    expect(errors).to.deep.equal([]);
    expect(files).to.deep.equal([join(dir, 'a.yml'), join(dir, 'b', 'deep', 'c.json'), join(dir, 'b', 'm.YAML'), join(dir, 'z.yaml')]);
    expect(names(snapshot.objects)).to.deep.equal(['a1', 'a2', 'c', 'm', 'z']);
    expect(snapshot.sources?.get(snapshot.objects[1] as Readonly<Record<string, unknown>>)).to.deep.equal({ file: join(dir, 'a.yml'), line: 6 });
  });

  it('skips hidden files and folders', async () => {
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'x.yaml'), service('git'));
    await writeFile(join(dir, '.web.yaml.swp'), service('swap'));
    await writeFile(join(dir, '.hidden.yaml'), service('hidden'));
    await writeFile(join(dir, 'web.yaml'), service('web'));
    const { snapshot, files } = await readManifestDir(dir);
    expect(files).to.deep.equal([join(dir, 'web.yaml')]);
    expect(names(snapshot.objects)).to.deep.equal(['web']);
  });

  it('follows symlinked folders once, without looping, and skips dangling links', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'plexus-manifests-outside-'));
    try {
      await writeFile(join(outside, 'linked.yaml'), service('linked'));
      await symlink(outside, join(dir, 'link'));
      await symlink(outside, join(dir, 'link-again'));
      await mkdir(join(dir, 'sub'));
      await symlink(dir, join(dir, 'sub', 'loop'));
      await symlink(join(dir, 'missing'), join(dir, 'dangling.yaml'));
      await writeFile(join(dir, 'sub', 'own.yaml'), service('own'));
      const { snapshot, errors, files } = await readManifestDir(dir);
      expect(errors).to.deep.equal([]);
      expect(files).to.deep.equal([join(dir, 'link', 'linked.yaml'), join(dir, 'sub', 'own.yaml')]);
      expect(names(snapshot.objects)).to.deep.equal(['linked', 'own']);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reads symlinked files', async () => {
    await writeFile(join(dir, 'real.txt'), service('via-link'));
    await symlink(join(dir, 'real.txt'), join(dir, 'link.yaml'));
    expect(names((await readManifestDir(dir)).snapshot.objects)).to.deep.equal(['via-link']);
  });

  it('keeps other files when one has a syntax error, and reports it with file and line', async () => {
    await writeFile(join(dir, 'good.yaml'), service('good'));
    await writeFile(join(dir, 'bad.yaml'), `${service('lost')}---\nkind: [\n`);
    const { snapshot, errors } = await readManifestDir(dir);
    expect(names(snapshot.objects)).to.deep.equal(['good']);
    expect(errors).to.have.length.greaterThan(0);
    expect(errors[0]?.file).to.equal(join(dir, 'bad.yaml'));
    expect(errors[0]?.line).to.be.greaterThan(5);
  });

  it('an empty folder gives an empty snapshot', async () => {
    expect(await readManifestDir(dir)).to.deep.equal({ snapshot: { objects: [], sources: new Map() }, errors: [], files: [] });
  });

  it('throws an error naming the path for a missing folder, a file, an unreadable folder', async () => {
    const missing = join(dir, 'nope');
    await expectRejection(readManifestDir(missing), `cannot read manifest directory ${missing}: no such file or directory (ENOENT)`);
    await writeFile(join(dir, 'file.yaml'), service('f'));
    await expectRejection(readManifestDir(join(dir, 'file.yaml')), `cannot read manifest directory ${join(dir, 'file.yaml')}: not a directory`);
    if (process.getuid?.() !== 0) {
      await mkdir(join(dir, 'locked'));
      await chmod(join(dir, 'locked'), 0o000);
      await expectRejection(readManifestDir(dir), `cannot read manifest directory ${join(dir, 'locked')}: permission denied (EACCES)`);
    }
  });

  it('readManifestFile reads one file and names it when it cannot', async () => {
    await writeFile(join(dir, 'one.yaml'), service('one'));
    const result = await readManifestFile(join(dir, 'one.yaml'));
    expect(result.errors).to.deep.equal([]);
    expect(result.objects.map((o) => o.source)).to.deep.equal([{ file: join(dir, 'one.yaml'), line: 1 }]);
    await expectRejection(readManifestFile(join(dir, 'gone.yaml')), `cannot read manifest file ${join(dir, 'gone.yaml')}: no such file or directory (ENOENT)`);
  });
});

async function expectRejection(promise: Promise<unknown>, message: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.equal(message);
    return;
  }
  expect.fail(`expected a rejection: ${message}`);
}
