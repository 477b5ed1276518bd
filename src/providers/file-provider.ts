/**
 * The file provider: watches a folder of Kubernetes YAML and emits a Snapshot whenever what it
 * holds changes (a file added, changed, renamed or deleted).
 *
 * - fs.watch on every folder (not recursive) triggers a rescan, debounced; a periodic rescan is
 *   the safety net for events a platform drops, so a change is seen within about a second either
 *   way. Per-folder watches because Node 20's recursive watch on Linux stops reporting a file
 *   once it has been replaced by a rename (how editors, `kubectl cp` and ConfigMap mounts write).
 * - A rescan only stats files; a file is re-read when its mtime or size changed, and re-parsed
 *   only when its content hash changed. An unchanged file keeps its object references, and so
 *   does each unchanged object of a changed file (kept-objects.ts), so the compiler's per-object
 *   memo stays warm. A rescan that found no change builds no snapshot.
 * - Each snapshot after the first says what changed since the one before (`Snapshot.changes`:
 *   the objects that left and came, a moved one in both), so the compiler reads those alone; the
 *   source locations are a layered map that each snapshot derives from the last one's.
 * - Files are read by readManifestSource, as `plexus config` reads them: parsed on the parser's
 *   own thread, so traffic is served while a big file loads (the status says `loading <file>`).
 * - A file that does not parse is reported in the status as a problem located at its path and
 *   line, and the last good version of its objects stays in force until it parses again or is
 *   deleted.
 * - A folder that cannot be read (deleted, renamed) makes the status unhealthy, once per distinct
 *   error; the last snapshot stays in force, and the next good read is handed out again.
 */
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { formatManifestError, type ManifestError } from '../manifests/errors.js';
import { listManifestTree, readManifestSource } from '../manifests/read.js';
import { append } from '../model/append.js';
import { problem, type Problem, type SourceLocation } from '../model/problem.js';
import type { ProviderStatus } from '../model/provider-status.js';
import type { RawObject, Snapshot } from '../model/snapshot.js';
import { LayeredMap } from '../model/layered-map.js';
import { keepUnchanged } from './kept-objects.js';
import type { Provider, ProviderOutput } from './provider.js';

export interface FileProviderOptions extends ProviderOutput {
  readonly dir: string;
  readonly debounceMs?: number;
  readonly rescanIntervalMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 20;
const DEFAULT_RESCAN_INTERVAL_MS = 700;

interface FileEntry {
  readonly mtimeMs: number;
  readonly size: number;
  readonly hash: string;
  /** The objects in force: the last good parse. */
  readonly objects: readonly RawObject[];
  readonly sources: ReadonlyMap<RawObject, SourceLocation>;
  /** Errors of the current content (empty when it parsed). */
  readonly errors: readonly ManifestError[];
}

export class FileProvider implements Provider {
  readonly #options: FileProviderOptions;
  #cache = new Map<string, FileEntry>();
  /** One watcher per folder of the last scan. */
  #watchers = new Map<string, FSWatcher>();
  #interval: NodeJS.Timeout | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #scanning: Promise<void> | null = null;
  #rescanRequested = false;
  #stopped = false;
  /** The folder error last reported: each is reported once, not on every rescan. */
  #folderError: string | null = null;
  /** The status of the last scan (null before the first), and the file being read now. */
  #status: ProviderStatus | null = null;
  #loading: string | null = null;
  /** The sources and version of the last snapshot handed out, and what changed since (null: nothing known yet). */
  #sources: LayeredMap<RawObject, SourceLocation> | null = null;
  #version: object | undefined;
  #removed: RawObject[] = [];
  #added: [RawObject, SourceLocation][] = [];

  constructor(options: FileProviderOptions) {
    this.#options = options;
  }

  /** Reads the folder once and hands out its snapshot (rejects when it cannot be read), then watches. */
  async start(): Promise<void> {
    await this.#scan();
    this.#emit();
    this.#interval = setInterval(() => this.#requestScan(), this.#options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS);
    this.#interval.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    if (this.#interval) clearInterval(this.#interval);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#interval = null;
    this.#debounce = null;
  }

  /** Watches exactly the folders of the last scan: new ones added, vanished ones closed. */
  #watchFolders(folders: readonly string[]): void {
    if (this.#stopped) return;
    const wanted = new Set(folders);
    for (const [folder, watcher] of this.#watchers) {
      if (wanted.has(folder)) continue;
      watcher.close();
      this.#watchers.delete(folder);
    }
    for (const folder of wanted) {
      if (this.#watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, () => this.#onEvent());
        watcher.on('error', () => {
          // The periodic rescan keeps working; the next scan watches the folder again if it is back.
          watcher.close();
          if (this.#watchers.get(folder) === watcher) this.#watchers.delete(folder);
        });
        this.#watchers.set(folder, watcher);
      } catch {
        // Gone or unwatchable (e.g. out of inotify watches): the periodic rescan covers it.
      }
    }
  }

  #onEvent(): void {
    if (this.#stopped) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      this.#requestScan();
    }, this.#options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  /** Scans now, or once more after the running scan (scans never overlap). */
  #requestScan(): void {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#rescanRequested = true;
      return;
    }
    this.#scanning = this.#scan()
      .then((changed) => {
        const recovered = this.#folderError !== null;
        this.#folderError = null;
        if ((changed || recovered) && !this.#stopped) this.#emit();
      }, (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (this.#stopped || message === this.#folderError) return;
        this.#folderError = message;
        this.#setStatus({ healthy: false, message });
      })
      .finally(() => {
        this.#scanning = null;
        if (this.#rescanRequested) {
          this.#rescanRequested = false;
          this.#requestScan();
        }
      });
  }

  /** The folder's status, then its snapshot (built only here: a rescan that changed nothing builds none). */
  #emit(): void {
    if (this.#stopped) return;
    const { snapshot, status } = this.#snapshot();
    this.#setStatus(status);
    this.#options.onSnapshot(snapshot);
  }

  #setStatus(status: ProviderStatus): void {
    this.#status = status;
    this.#showStatus();
  }

  /** A changed file is being read (`file`), or the scan is over (null): said in the status. */
  #setLoading(file: string | null): void {
    if (file === this.#loading) return;
    this.#loading = file;
    this.#showStatus();
  }

  #showStatus(): void {
    const status = this.#status;
    if (status === null || this.#stopped) return;
    this.#options.onStatus(this.#loading === null ? status : { ...status, message: `${status.message}; loading ${this.#loading}` });
  }

  /** Whether anything differs from the scan before. */
  async #scan(): Promise<boolean> {
    try {
      return await this.#scanFiles();
    } finally {
      this.#setLoading(null);
    }
  }

  async #scanFiles(): Promise<boolean> {
    const { files, folders } = await listManifestTree(this.#options.dir);
    this.#watchFolders(folders);
    const next = new Map<string, FileEntry>();
    let changed = files.length !== this.#cache.size;
    // Every file is stat'ed at once (100 stats one after the other took longer than the change they find).
    const infos = files.map((path) => stat(path).catch((err: Error) => err));
    for (const [i, path] of files.entries()) {
      const before = this.#cache.get(path);
      const entry = await this.#load(path, before, infos[i]!).catch((err: Error) => {
        // Deleted between listing and reading: the next scan sees it gone.
        const code = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return null;
        return failed(before, [{ file: path, line: 1, message: err.message }]);
      });
      if (!entry) continue;
      if (!before || entry.objects !== before.objects || !sameErrors(entry.errors, before.errors)) changed = true;
      if (entry.objects !== before?.objects) this.#noteChanges(before, entry);
      next.set(path, entry);
    }
    for (const [path, before] of this.#cache) if (!next.has(path)) this.#noteChanges(before, undefined);
    this.#cache = next;
    return changed;
  }

  /** Notes what a file's new version (`after`, undefined when it is gone) removed and added, a moved object in both. */
  #noteChanges(before: FileEntry | undefined, after: FileEntry | undefined): void {
    // Before the first snapshot there is nothing to change from (the first scan would note every object).
    if (this.#sources === null) return;
    const stays = (object: RawObject, from: FileEntry, to: FileEntry | undefined): boolean => to?.sources.get(object) === from.sources.get(object);
    if (before) for (const object of before.objects) if (!stays(object, before, after)) this.#removed.push(object);
    if (after) for (const object of after.objects) if (!before || !stays(object, after, before)) this.#added.push([object, after.sources.get(object)!]);
  }

  async #load(path: string, before: FileEntry | undefined, stats: Promise<Stats | Error>): Promise<FileEntry> {
    const info = await stats;
    if (info instanceof Error) throw info;
    if (before && before.mtimeMs === info.mtimeMs && before.size === info.size) return before;
    this.#setLoading(path);
    const { hash, result: parsed } = await readManifestSource(path, before?.hash || null);
    if (parsed === null) return { ...(before as FileEntry), mtimeMs: info.mtimeMs, size: info.size };
    if (parsed.errors.length > 0 && before) {
      return { ...failed(before, parsed.errors), mtimeMs: info.mtimeMs, size: info.size, hash };
    }
    const located = keepUnchanged(before, parsed.objects);
    return {
      mtimeMs: info.mtimeMs,
      size: info.size,
      hash,
      objects: located.map((l) => l.object),
      sources: new Map(located.map((l) => [l.object, l.source])),
      errors: parsed.errors,
    };
  }

  #snapshot(): { snapshot: Snapshot; status: ProviderStatus } {
    const objects: RawObject[] = [];
    const errors: ManifestError[] = [];
    for (const entry of this.#cache.values()) {
      append(objects, entry.objects);
      append(errors, entry.errors);
    }
    const since = this.#version;
    const version = {};
    const changes = this.#sources === null || since === undefined ? undefined : { since, removed: this.#removed, added: this.#added.map(([object]) => object) };
    this.#sources = this.#sources === null ? LayeredMap.of(this.#allSources()) : this.#sources.with(this.#added, this.#removed);
    this.#version = version;
    this.#removed = [];
    this.#added = [];
    const sources = this.#sources;
    const dir = this.#options.dir;
    const status: ProviderStatus = errors.length === 0
      ? { healthy: true, problems: [], message: `${this.#cache.size} files in ${dir}` }
      : { healthy: false, problems: errors.map(fileProblem), message: `${errors.length} file errors in ${dir} (last good versions kept)` };
    return { snapshot: { objects, sources, version, ...(changes === undefined ? {} : { changes }) }, status };
  }

  /** Every file's source locations (the first snapshot's). */
  *#allSources(): Generator<readonly [RawObject, SourceLocation]> {
    for (const entry of this.#cache.values()) yield* entry.sources;
  }
}

/** A file that does not parse, as a problem located at its line (its last good objects stay in force). */
function fileProblem(error: ManifestError): Problem {
  return problem({ kind: 'File', namespace: '', name: error.file }, `${error.message} (last good version kept)`, 'error', { file: error.file, line: error.line });
}

/** Keeps the last good objects of `before` (none when there is none) with new errors. */
function failed(before: FileEntry | undefined, errors: readonly ManifestError[]): FileEntry {
  return {
    mtimeMs: before?.mtimeMs ?? 0,
    size: before?.size ?? -1,
    hash: before?.hash ?? '',
    objects: before?.objects ?? [],
    sources: before?.sources ?? new Map(),
    errors,
  };
}

function sameErrors(a: readonly ManifestError[], b: readonly ManifestError[]): boolean {
  return a.length === b.length && a.every((error, i) => formatManifestError(error) === formatManifestError(b[i] as ManifestError));
}
