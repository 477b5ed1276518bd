import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { formatManifestError } from '../../../src/manifests/errors.js';
import { MAX_MANIFEST_FILE_BYTES } from '../../../src/manifests/read.js';
import { FileProvider, type FileSnapshot } from '../../../src/providers/file-provider.js';
import type { RawObject } from '../../../src/model/snapshot.js';

function service(name: string, port = 80): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: shop
spec:
  selector:
    app: ${name}
  ports:
    - port: ${port}
`;
}

function names(update: FileSnapshot): string[] {
  return update.snapshot.objects.map((o) => (o.metadata as { name: string }).name).sort();
}

function byName(update: FileSnapshot, name: string): RawObject | undefined {
  return update.snapshot.objects.find((o) => (o.metadata as { name: string }).name === name);
}

describe('file provider', () => {
  let dir: string;
  let provider: FileProvider;
  let waiters: { accept: (u: FileSnapshot) => boolean; resolve: (u: FileSnapshot) => void }[];
  let folderErrors: Error[];

  /** The next snapshot that satisfies `accept` (fails the test after 10 s without one). */
  function next(accept: (u: FileSnapshot) => boolean): Promise<FileSnapshot> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching snapshot within 10 s')), 10_000);
      waiters.push({ accept, resolve: (u) => { clearTimeout(timer); resolve(u); } });
    });
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-provider-'));
    waiters = [];
    folderErrors = [];
    await writeFile(join(dir, 'a.yaml'), service('alpha'));
    await writeFile(join(dir, 'b.yaml'), `${service('beta')}---\n${service('gamma')}`);
    provider = new FileProvider({
      dir,
      debounceMs: 20,
      rescanIntervalMs: 200,
      onSnapshot: (update) => {
        waiters = waiters.filter((w) => {
          if (!w.accept(update)) return true;
          w.resolve(update);
          return false;
        });
      },
      onError: (err) => folderErrors.push(err),
    });
  });

  afterEach(async () => {
    provider.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every manifest of the folder on start, with sources', async () => {
    const first = await provider.start();
    expect(names(first)).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(first.errors).to.deep.equal([]);
    const gamma = byName(first, 'gamma');
    const source = gamma && first.snapshot.sources?.get(gamma);
    expect(source?.file).to.equal(join(dir, 'b.yaml'));
    // The second document: its `---` (line 12) or its first line (13).
    expect(source?.line).to.be.within(12, 13);
  });

  it('applies a changed file and keeps the objects of unchanged files as the same references', async () => {
    const first = await provider.start();
    const changed = next((u) => names(u).includes('delta'));
    await writeFile(join(dir, 'b.yaml'), service('delta'));
    const update = await changed;
    expect(names(update)).to.deep.equal(['alpha', 'delta']);
    expect(byName(update, 'alpha')).to.equal(byName(first, 'alpha'));
  });

  it('picks up added files in nested folders, renames and deletions', async () => {
    await provider.start();
    const added = next((u) => names(u).includes('nested'));
    await mkdir(join(dir, 'more', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'more', 'deeper', 'n.yml'), service('nested'));
    expect(names(await added)).to.deep.equal(['alpha', 'beta', 'gamma', 'nested']);

    const renamed = next((u) => u.files.includes(join(dir, 'z.yaml')));
    await rename(join(dir, 'a.yaml'), join(dir, 'z.yaml'));
    const afterRename = await renamed;
    expect(names(afterRename)).to.deep.equal(['alpha', 'beta', 'gamma', 'nested']);
    expect(afterRename.files).to.not.include(join(dir, 'a.yaml'));

    const deleted = next((u) => !names(u).includes('alpha'));
    await rm(join(dir, 'z.yaml'));
    expect(names(await deleted)).to.deep.equal(['beta', 'gamma', 'nested']);
  });

  it('sees every replacement by rename in the top folder and in nested folders from watch events alone', async () => {
    provider.stop();
    // A periodic rescan an hour away: only the folder watchers can deliver these changes.
    provider = new FileProvider({
      dir,
      debounceMs: 20,
      rescanIntervalMs: 3_600_000,
      onSnapshot: (update) => {
        waiters = waiters.filter((w) => {
          if (!w.accept(update)) return true;
          w.resolve(update);
          return false;
        });
      },
      onError: (err) => folderErrors.push(err),
    });
    await provider.start();
    await mkdir(join(dir, 'nested'));
    const folderSeen = next((u) => names(u).includes('inner0'));
    await writeFile(join(dir, 'nested', 'n.yaml'), service('inner0'));
    await folderSeen;
    for (let i = 1; i <= 6; i++) {
      for (const [folder, file, prefix] of [[dir, 'a.yaml', 'alpha'], [dir, 'b.yaml', 'beta'], [join(dir, 'nested'), 'n.yaml', 'inner']] as const) {
        const seen = next((u) => names(u).includes(`${prefix}${i}`));
        await writeFile(join(folder, '.tmp'), service(`${prefix}${i}`));
        await rename(join(folder, '.tmp'), join(folder, file));
        await seen;
      }
    }
  });

  it('keeps the last good version of a file that stops parsing, reports it with path and line, and recovers', async () => {
    const first = await provider.start();
    const broken = next((u) => u.errors.length > 0);
    await writeFile(join(dir, 'b.yaml'), `${service('beta')}---\nkind: [unclosed\n`);
    const update = await broken;
    expect(names(update)).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(byName(update, 'beta')).to.equal(byName(first, 'beta'));
    const message = formatManifestError(update.errors[0]!);
    expect(message).to.match(new RegExp(`^${join(dir, 'b.yaml').replace(/[.]/g, '\\.')}:\\d+: `));

    const fixed = next((u) => u.errors.length === 0);
    await writeFile(join(dir, 'b.yaml'), service('beta', 81));
    const recovered = await fixed;
    expect(names(recovered)).to.deep.equal(['alpha', 'beta']);
    expect(folderErrors).to.deep.equal([]);
  });

  it('reports a file over the size limit at its line 1, keeps its last good objects, and says which file it loads', async () => {
    const loading: Array<string | null> = [];
    provider.stop();
    provider = new FileProvider({
      dir, debounceMs: 20, rescanIntervalMs: 200, onError: (err) => folderErrors.push(err),
      onLoading: (file) => loading.push(file),
      onSnapshot: (update) => { waiters = waiters.filter((w) => (w.accept(update) ? (w.resolve(update), false) : true)); },
    });
    await provider.start();
    expect(loading).to.deep.equal([join(dir, 'a.yaml'), join(dir, 'b.yaml'), null]);
    const tooBig = next((u) => u.errors.length > 0);
    const handle = await open(join(dir, 'b.yaml'), 'r+');
    await handle.truncate(MAX_MANIFEST_FILE_BYTES + 1);
    await handle.close();
    const update = await tooBig;
    expect(names(update)).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(update.errors.map(formatManifestError)).to.deep.equal([
      `${join(dir, 'b.yaml')}:1: the file has 33554433 bytes; manifest files are read up to 33554432 bytes (32 MiB): split it into several files`,
    ]);
    expect(loading).to.include(join(dir, 'b.yaml'));
    expect(loading.at(-1)).to.equal(null);
  });

  it('reports a folder that disappears once, keeps the last snapshot, and reads it again when it is back', async () => {
    await provider.start();
    const moved = `${dir}-moved`;
    await rename(dir, moved);
    try {
      const deadline = Date.now() + 10_000;
      while (folderErrors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(folderErrors).to.have.length(1);
      expect(folderErrors[0]?.message).to.contain(dir);
    } finally {
      const back = next(() => true);
      await rename(moved, dir);
      expect(names(await back)).to.deep.equal(['alpha', 'beta', 'gamma']);
    }
    expect(folderErrors).to.have.length(1);
  });

  it('does not start on a folder that does not exist', async () => {
    const missing = new FileProvider({ dir: join(dir, 'nope'), onSnapshot: () => undefined, onError: () => undefined });
    let error: unknown = null;
    await missing.start().catch((err: unknown) => { error = err; });
    missing.stop();
    expect(String(error)).to.contain(join(dir, 'nope'));
  });
});
