/**
 * The file provider: watches a folder of Kubernetes YAML and emits a Snapshot whenever what it
 * holds changes (a file added, changed, renamed or deleted).
 *
 * - fs.watch on every folder (not recursive) triggers a rescan, debounced; a periodic rescan is
 *   the safety net for events a platform drops, so a change is seen within about a second either
 *   way. Per-folder watches because Node 20's recursive watch on Linux stops reporting a file
 *   once it has been replaced by a rename (how editors, `kubectl cp` and ConfigMap mounts write).
 * - A rescan only stats files; a file is re-read when its mtime or size changed, and re-parsed
 *   only when its content hash changed. An unchanged file keeps its object references, so the
 *   compiler's per-object memo stays warm.
 * - Files are read by readManifestSource, as `plexus config` reads them: parsed on the parser's
 *   own thread, so traffic is served while a big file loads (`onLoading` says which file).
 * - A file that does not parse is reported (path:line) and the last good version of its objects
 *   stays in force until it parses again or is deleted.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { formatManifestError, type ManifestError } from '../manifests/errors.js';
import { listManifestTree, readManifestSource } from '../manifests/read.js';
import { append } from '../model/append.js';
import type { SourceLocation } from '../model/problem.js';
import type { RawObject, Snapshot } from '../model/snapshot.js';

export interface FileSnapshot {
  readonly snapshot: Snapshot;
  /** Current errors, per file (a file listed here serves its last good objects, if any). */
  readonly errors: readonly ManifestError[];
  /** Manifest files found, sorted. */
  readonly files: readonly string[];
}

export interface FileProviderOptions {
  readonly dir: string;
  /** Called for every change after `start` (never for a rescan that changed nothing). */
  readonly onSnapshot: (update: FileSnapshot) => void;
  /**
   * The folder could not be read (e.g. deleted): called once per distinct error; the last
   * snapshot stays in force, and the next good read is emitted even if nothing changed.
   */
  readonly onError: (err: Error) => void;
  /** A changed file is being read and parsed (`file`), or the scan is over (null). */
  readonly onLoading?: (file: string | null) => void;
  readonly debounceMs?: number;
  readonly rescanIntervalMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 100;
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

export class FileProvider {
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

  constructor(options: FileProviderOptions) {
    this.#options = options;
  }

  /** Reads the folder once (throws when it cannot be read) and starts watching. */
  async start(): Promise<FileSnapshot> {
    const first = await this.#scan();
    this.#interval = setInterval(() => this.#requestScan(), this.#options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS);
    this.#interval.unref();
    return first.update;
  }

  stop(): void {
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
      .then(({ update, changed }) => {
        const recovered = this.#folderError !== null;
        this.#folderError = null;
        if ((changed || recovered) && !this.#stopped) this.#options.onSnapshot(update);
      }, (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        if (this.#stopped || error.message === this.#folderError) return;
        this.#folderError = error.message;
        this.#options.onError(error);
      })
      .finally(() => {
        this.#scanning = null;
        if (this.#rescanRequested) {
          this.#rescanRequested = false;
          this.#requestScan();
        }
      });
  }

  async #scan(): Promise<{ update: FileSnapshot; changed: boolean }> {
    try {
      return await this.#scanFiles();
    } finally {
      this.#options.onLoading?.(null);
    }
  }

  async #scanFiles(): Promise<{ update: FileSnapshot; changed: boolean }> {
    const { files, folders } = await listManifestTree(this.#options.dir);
    this.#watchFolders(folders);
    const next = new Map<string, FileEntry>();
    let changed = files.length !== this.#cache.size;
    for (const path of files) {
      const before = this.#cache.get(path);
      const entry = await this.#load(path, before).catch((err: Error) => {
        // Deleted between listing and reading: the next scan sees it gone.
        const code = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return null;
        return failed(before, [{ file: path, line: 1, message: err.message }]);
      });
      if (!entry) continue;
      if (!before || entry.objects !== before.objects || !sameErrors(entry.errors, before.errors)) changed = true;
      next.set(path, entry);
    }
    this.#cache = next;
    return { update: this.#snapshot(), changed };
  }

  async #load(path: string, before: FileEntry | undefined): Promise<FileEntry> {
    const info = await stat(path);
    if (before && before.mtimeMs === info.mtimeMs && before.size === info.size) return before;
    this.#options.onLoading?.(path);
    const { hash, result: parsed } = await readManifestSource(path, before?.hash || null);
    if (parsed === null) return { ...(before as FileEntry), mtimeMs: info.mtimeMs, size: info.size };
    if (parsed.errors.length > 0 && before) {
      return { ...failed(before, parsed.errors), mtimeMs: info.mtimeMs, size: info.size, hash };
    }
    return {
      mtimeMs: info.mtimeMs,
      size: info.size,
      hash,
      objects: parsed.objects.map((located) => located.object),
      sources: new Map(parsed.objects.map((located) => [located.object, located.source])),
      errors: parsed.errors,
    };
  }

  #snapshot(): FileSnapshot {
    const objects: RawObject[] = [];
    const sources = new Map<RawObject, SourceLocation>();
    const errors: ManifestError[] = [];
    for (const entry of this.#cache.values()) {
      append(objects, entry.objects);
      for (const [object, source] of entry.sources) sources.set(object, source);
      append(errors, entry.errors);
    }
    return { snapshot: { objects, sources }, errors, files: [...this.#cache.keys()] };
  }
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
