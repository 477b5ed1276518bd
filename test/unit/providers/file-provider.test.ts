import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAX_MANIFEST_FILE_BYTES } from '../../../src/manifests/read.js';
import type { Problem } from '../../../src/model/problem.js';
import type { ProviderStatus } from '../../../src/model/provider-status.js';
import type { RawObject, Snapshot } from '../../../src/model/snapshot.js';
import { FileProvider, type FileProviderOptions } from '../../../src/providers/file-provider.js';

/** A snapshot as the provider handed it out, with the status it reported just before. */
interface Seen {
  readonly snapshot: Snapshot;
  readonly status: ProviderStatus;
}

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

/**
 * Replaces a file as docs/local-mode.md asks (a temporary file renamed over it), so the provider
 * never reads it half-written: `writeFile` truncates, then writes, and a rescan or a watch event
 * between the two would see an empty file.
 */
async function replace(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

function names(update: Seen): string[] {
  return update.snapshot.objects.map((o) => (o.metadata as { name: string }).name).sort();
}

function byName(update: Seen, name: string): RawObject | undefined {
  return update.snapshot.objects.find((o) => (o.metadata as { name: string }).name === name);
}

/** The files the snapshot's objects come from. */
function files(update: Seen): string[] {
  return [...new Set(update.snapshot.objects.map((o) => update.snapshot.sources?.get(o)?.file))].filter((f) => f !== undefined);
}

function errors(update: Seen): readonly Problem[] {
  return update.status.problems ?? [];
}

/** `path:line: message`. */
function located(problem: Problem): string {
  return `${problem.source?.file}:${problem.source?.line}: ${problem.message}`;
}

describe('file provider', () => {
  let dir: string;
  let provider: FileProvider;
  let waiters: { accept: (u: Seen) => boolean; resolve: (u: Seen) => void }[];
  let seen: Seen[];
  let statuses: ProviderStatus[];
  /** Unhealthy statuses without problems: the folder itself was not readable. */
  let folderErrors: ProviderStatus[];

  /** A provider of `dir` whose output the test watches. */
  function fileProvider(options: Partial<FileProviderOptions> = {}): FileProvider {
    return new FileProvider({
      dir,
      debounceMs: 20,
      rescanIntervalMs: 200,
      onStatus: (status) => {
        statuses.push(status);
        if (!status.healthy && status.problems === undefined) folderErrors.push(status);
      },
      onSnapshot: (snapshot) => {
        const update = { snapshot, status: statuses[statuses.length - 1]! };
        seen.push(update);
        waiters = waiters.filter((w) => {
          if (!w.accept(update)) return true;
          w.resolve(update);
          return false;
        });
      },
      ...options,
    });
  }

  /** The first snapshot, handed out by `start`. */
  async function start(): Promise<Seen> {
    await provider.start();
    return seen[0]!;
  }

  /** The next snapshot that satisfies `accept` (fails the test after 10 s without one). */
  function next(accept: (u: Seen) => boolean): Promise<Seen> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching snapshot within 10 s')), 10_000);
      waiters.push({ accept, resolve: (u) => { clearTimeout(timer); resolve(u); } });
    });
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-provider-'));
    waiters = [];
    seen = [];
    statuses = [];
    folderErrors = [];
    await writeFile(join(dir, 'a.yaml'), service('alpha'));
    await writeFile(join(dir, 'b.yaml'), `${service('beta')}---\n${service('gamma')}`);
    provider = fileProvider();
  });

  afterEach(async () => {
    await provider.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every manifest of the folder on start, with sources', async () => {
    const first = await start();
    expect(names(first)).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(errors(first)).to.deep.equal([]);
    expect(first.status).to.deep.equal({ healthy: true, problems: [], message: `2 files in ${dir}` });
    const gamma = byName(first, 'gamma');
    const source = gamma && first.snapshot.sources?.get(gamma);
    expect(source?.file).to.equal(join(dir, 'b.yaml'));
    // The second document: its `---` (line 12) or its first line (13).
    expect(source?.line).to.be.within(12, 13);
  });

  it('applies a changed file and keeps the objects of unchanged files as the same references', async () => {
    const first = await start();
    const changed = next((u) => names(u).includes('delta'));
    await writeFile(join(dir, 'b.yaml'), service('delta'));
    const update = await changed;
    expect(names(update)).to.deep.equal(['alpha', 'delta']);
    expect(byName(update, 'alpha')).to.equal(byName(first, 'alpha'));
  });

  it('keeps the unchanged objects of a changed file as the same references, with their sources where they moved', async () => {
    const first = await start();
    const beta = byName(first, 'beta');
    const changed = next((u) => byName(u, 'gamma') !== byName(first, 'gamma'));
    // gamma's port changes; beta keeps its content but moves down two lines.
    await replace(join(dir, 'b.yaml'), `# a comment\n# another\n${service('beta')}---\n${service('gamma', 8080)}`);
    const update = await changed;
    expect(byName(update, 'beta')).to.equal(beta);
    expect(update.snapshot.sources?.get(beta as RawObject)?.line).to.equal((first.snapshot.sources?.get(beta as RawObject)?.line ?? 0) + 2);
    expect((byName(update, 'gamma')?.spec as { ports: { port: number }[] }).ports[0]?.port).to.equal(8080);
    expect(byName(update, 'alpha')).to.equal(byName(first, 'alpha'));
  });

  it('says what changed since the snapshot before: objects that left and came, a moved one in both', async () => {
    const first = await start();
    expect(first.snapshot.changes).to.equal(undefined);
    const [alpha, beta, gamma] = ['alpha', 'beta', 'gamma'].map((name) => byName(first, name) as RawObject);
    const changed = next((u) => byName(u, 'gamma') !== gamma);
    await replace(join(dir, 'b.yaml'), `# moved\n${service('beta')}---\n${service('gamma', 8080)}`);
    const update = await changed;
    const changes = update.snapshot.changes!;
    expect(changes.since).to.equal(first.snapshot.version);
    expect(changes.removed).to.have.members([beta, gamma]);
    expect(changes.added).to.have.members([beta, byName(update, 'gamma')]);
    expect(update.snapshot.sources?.get(alpha)).to.equal(first.snapshot.sources?.get(alpha));

    const deleted = next((u) => !names(u).includes('alpha'));
    await rm(join(dir, 'a.yaml'));
    const after = (await deleted).snapshot;
    expect(after.changes).to.deep.equal({ since: update.snapshot.version, removed: [alpha], added: [] });
    expect(after.sources?.get(alpha)).to.equal(undefined);
    expect(after.sources?.get(beta)?.line).to.equal(2);
  });

  it('picks up added files in nested folders, renames and deletions', async () => {
    await provider.start();
    const added = next((u) => names(u).includes('nested'));
    await mkdir(join(dir, 'more', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'more', 'deeper', 'n.yml'), service('nested'));
    expect(names(await added)).to.deep.equal(['alpha', 'beta', 'gamma', 'nested']);

    const renamed = next((u) => files(u).includes(join(dir, 'z.yaml')));
    await rename(join(dir, 'a.yaml'), join(dir, 'z.yaml'));
    const afterRename = await renamed;
    expect(names(afterRename)).to.deep.equal(['alpha', 'beta', 'gamma', 'nested']);
    expect(files(afterRename)).to.not.include(join(dir, 'a.yaml'));

    const deleted = next((u) => !names(u).includes('alpha'));
    await rm(join(dir, 'z.yaml'));
    expect(names(await deleted)).to.deep.equal(['beta', 'gamma', 'nested']);
  });

  it('sees every replacement by rename in the top folder and in nested folders from watch events alone', async () => {
    await provider.stop();
    // A periodic rescan an hour away: only the folder watchers can deliver these changes.
    provider = fileProvider({ rescanIntervalMs: 3_600_000 });
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
    const first = await start();
    const broken = next((u) => errors(u).length > 0);
    await replace(join(dir, 'b.yaml'), `${service('beta')}---\nkind: [unclosed\n`);
    const update = await broken;
    expect(names(update)).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(byName(update, 'beta')).to.equal(byName(first, 'beta'));
    expect(update.status.healthy).to.equal(false);
    expect(errors(update)[0]?.kind).to.equal('File');
    const message = located(errors(update)[0]!);
    expect(message).to.match(new RegExp(`^${join(dir, 'b.yaml').replace(/[.]/g, '\\.')}:\\d+: `));

    const fixed = next((u) => errors(u).length === 0);
    await replace(join(dir, 'b.yaml'), service('beta', 81));
    const recovered = await fixed;
    expect(names(recovered)).to.deep.equal(['alpha', 'beta']);
    expect(folderErrors).to.deep.equal([]);
  });

  it('reports a file over the size limit at its line 1, keeps its last good objects, and says which file it loads', async () => {
    /** The file each status says is loading (null: none). */
    const loading = (): Array<string | null> => statuses.map((s) => /; loading (.*)$/.exec(s.message)?.[1] ?? null);
    await provider.start();
    // The first read reports no loading: the first status comes with the first snapshot.
    expect(loading()).to.deep.equal([null]);
    const tooBig = next((u) => errors(u).length > 0);
    const handle = await open(join(dir, 'b.yaml'), 'r+');
    await handle.truncate(MAX_MANIFEST_FILE_BYTES + 1);
    await handle.close();
    const update = await tooBig;
    expect(names(update)).to.deep.equal(['alpha', 'beta', 'gamma']);
    expect(errors(update).map(located)).to.deep.equal([
      `${join(dir, 'b.yaml')}:1: the file has 33554433 bytes; manifest files are read up to 33554432 bytes (32 MiB): split it into several files (last good version kept)`,
    ]);
    expect(loading()).to.include(join(dir, 'b.yaml'));
    expect(loading().at(-1)).to.equal(null);
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
    const missing = new FileProvider({ dir: join(dir, 'nope'), onSnapshot: () => undefined, onStatus: () => undefined });
    let error: unknown = null;
    await missing.start().catch((err: unknown) => { error = err; });
    await missing.stop();
    expect(String(error)).to.contain(join(dir, 'nope'));
  });
});
