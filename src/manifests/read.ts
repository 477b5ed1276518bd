/**
 * A folder of Kubernetes manifests → a Snapshot. Reads `.yaml`, `.yml` and `.json` files found
 * recursively, in sorted path order; skips hidden files and folders (dotfiles: editor swap
 * files, `.git`); follows symlinked folders, each real folder at most once (no loops).
 *
 * Every manifest file, for `plexus config` and for the agent's file provider alike, is read by
 * readManifestSource: the same size limit, the same parser (on its own thread, parser.ts).
 */
import type { Dirent, Stats } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { append } from '../model/append.js';
import type { SourceLocation } from '../model/problem.js';
import type { RawObject, Snapshot } from '../model/snapshot.js';
import type { ManifestError } from './errors.js';
import type { ManifestParseResult } from './parse.js';
import { manifestParser } from './parser.js';

export interface ManifestDirResult {
  readonly snapshot: Snapshot;
  readonly errors: ManifestError[];
  /** Every manifest file read, in the order read (sorted by path). */
  readonly files: string[];
}

const MANIFEST_EXTENSION = /\.(ya?ml|json)$/i;

/** True for the file names a manifest folder is made of (watchers filter events with it). */
export function isManifestFileName(name: string): boolean {
  return !name.startsWith('.') && MANIFEST_EXTENSION.test(name);
}

/**
 * The largest manifest file read (32 MiB): a bigger one is a problem at its line 1 and
 * contributes no objects. Parsing YAML takes many times the file's size in memory.
 */
export const MAX_MANIFEST_FILE_BYTES = 32 * 1024 * 1024;

export interface ManifestSource {
  /** SHA-256 of the content ('' when it was not read: too large). */
  readonly hash: string;
  /** Null when the content hashes to `previousHash`: unchanged, not parsed again. */
  readonly result: ManifestParseResult | null;
}

/**
 * One manifest file, parsed off the serving thread. Throws an Error naming the path when it
 * cannot be read; the original error (with its `code`, e.g. ENOENT for a file just removed) is
 * the `cause`.
 */
export async function readManifestSource(path: string, previousHash: string | null = null): Promise<ManifestSource> {
  const what = `cannot read manifest file ${path}`;
  const { size } = await io(what, () => stat(path));
  if (size > MAX_MANIFEST_FILE_BYTES) {
    const message = `the file has ${size} bytes; manifest files are read up to ${MAX_MANIFEST_FILE_BYTES} bytes (${MAX_MANIFEST_FILE_BYTES / (1024 * 1024)} MiB): split it into several files`;
    return { hash: '', result: { objects: [], errors: [{ file: path, line: 1, message }] } };
  }
  const bytes = await io(what, () => readFile(path));
  const parsed = await manifestParser.parse(path, bytes, previousHash);
  return { hash: parsed.hash, result: parsed.kind === 'unchanged' ? null : parsed.result };
}

/** One manifest file (see readManifestSource). */
export async function readManifestFile(path: string): Promise<ManifestParseResult> {
  return (await readManifestSource(path)).result as ManifestParseResult;
}


/**
 * Every manifest under `dir`. Throws an Error naming the path when `dir`, or a folder or file
 * under it, cannot be read; a file removed between listing and reading is skipped.
 */
export async function readManifestDir(dir: string): Promise<ManifestDirResult> {
  const objects: RawObject[] = [];
  const sources = new Map<RawObject, SourceLocation>();
  const errors: ManifestError[] = [];
  const files: string[] = [];
  for (const file of await listManifestFiles(dir)) {
    let result: ManifestParseResult;
    try {
      result = await readManifestFile(file);
    } catch (err) {
      if (err instanceof Error && isGone(err.cause)) continue;
      throw err;
    }
    files.push(file);
    for (const { object, source } of result.objects) {
      objects.push(object);
      sources.set(object, source);
    }
    append(errors, result.errors);
  }
  return { snapshot: { objects, sources }, errors, files };
}

/** Manifest file paths under `dir` (joined onto `dir` as given), sorted. */
export async function listManifestFiles(dir: string): Promise<string[]> {
  return (await listManifestTree(dir)).files;
}

export interface ManifestTree {
  /** Manifest file paths, sorted. */
  readonly files: string[];
  /** `dir` and every folder walked under it (symlinked folders by the path they were reached by). */
  readonly folders: string[];
}

/** The manifest files under `dir` and the folders that hold them (a watcher watches each). */
export async function listManifestTree(dir: string): Promise<ManifestTree> {
  const what = `cannot read manifest directory ${dir}`;
  const info = await io(what, () => stat(dir));
  if (!info.isDirectory()) throw new Error(`${what}: not a directory`);
  const tree = { files: [] as string[], folders: [dir] };
  await walk(dir, new Set([await io(what, () => realpath(dir))]), tree);
  tree.files.sort(comparePaths);
  return tree;
}

async function walk(dir: string, visited: Set<string>, tree: ManifestTree): Promise<void> {
  const what = `cannot read manifest directory ${dir}`;
  const entries: Dirent[] = await io(what, () => readdir(dir, { withFileTypes: true }));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const kind = await entryKind(entry, path);
    if (kind === 'directory') {
      const real = await io(`cannot read manifest directory ${path}`, () => realpath(path));
      if (visited.has(real)) continue;
      visited.add(real);
      tree.folders.push(path);
      await walk(path, visited, tree);
    } else if (kind === 'file' && isManifestFileName(entry.name)) {
      tree.files.push(path);
    }
  }
}

/** What an entry is, following a symlink; a dangling or looping link counts as nothing. */
async function entryKind(entry: Dirent, path: string): Promise<'directory' | 'file' | 'other'> {
  let target: Dirent | Stats = entry;
  if (entry.isSymbolicLink()) {
    try {
      target = await stat(path);
    } catch (err) {
      if (isGone(err)) return 'other';
      throw new Error(`cannot read manifest path ${path}: ${describeIoError(err)}`, { cause: err });
    }
  }
  if (target.isDirectory()) return 'directory';
  return target.isFile() ? 'file' : 'other';
}

async function io<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw new Error(`${what}: ${describeIoError(err)}`, { cause: err });
  }
}

/** Plain code-unit order, so the order does not depend on the locale. */
function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function isGone(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ELOOP';
}

const IO_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
};

function describeIoError(err: unknown): string {
  const code = errorCode(err);
  if (code !== undefined) return `${IO_ERRORS[code] ?? 'I/O error'} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
