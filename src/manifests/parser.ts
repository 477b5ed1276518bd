/**
 * Parses manifest files on a worker thread (parse-worker.ts): the agent's file provider and
 * `plexus config` both read through here, so they accept exactly the same input, and a big file
 * never stops the thread that serves traffic. A file of up to INLINE_BYTES that the fast reader
 * takes (block-yaml.ts: ~1 ms per 40 KB) is read right here instead: a changed file is applied
 * without waiting for a worker to start (~100-300 ms, most of a change's time at 10,000 Services). One file at a time; the objects come back in
 * batches the serving thread takes between its other work. The worker starts on first use,
 * holds the process open only while it has work, stops after IDLE_MS without any (a thread
 * costs ~10 MB of memory, and files change rarely), and is started again when needed or if it
 * dies (a file that made it die is reported, as a problem at line 1).
 */
import { Worker } from 'node:worker_threads';
import { readBlockManifest, type LocatedObject, type ManifestParseResult } from './documents.js';
import type { ManifestError } from './errors.js';
import { manifestHash, type FromWorker, type ToWorker } from './parse-protocol.js';

export type ParsedFile =
  | { readonly kind: 'unchanged'; readonly hash: string }
  | { readonly kind: 'parsed'; readonly hash: string; readonly result: ManifestParseResult };

/** A worker with nothing to do for this long stops (a scan reads its files one after another). */
const IDLE_MS = 2_000;

/** Files up to this size are read on the calling thread when the fast reader takes them (a few ms). */
const INLINE_BYTES = 256 * 1024;

interface Task {
  readonly file: string;
  readonly objects: LocatedObject[];
  resolve(parsed: ParsedFile): void;
}

class ManifestParser {
  #worker: Worker | null = null;
  #task: Task | null = null;
  /** Parses run one after another. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Parses asked for and not yet answered. */
  #pending = 0;
  #idle: NodeJS.Timeout | null = null;

  /** Parses `bytes` (which are transferred: unusable afterwards) as the manifest file `file`. */
  parse(file: string, bytes: Uint8Array, previousHash: string | null): Promise<ParsedFile> {
    const inline = bytes.byteLength <= INLINE_BYTES ? readInline(file, bytes, previousHash) : null;
    if (inline !== null) return Promise.resolve(inline);
    this.#pending++;
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    const run = this.#queue.then(() => this.#run(file, bytes, previousHash)).finally(() => this.#done());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** One parse answered; with none left, the worker stops after IDLE_MS. */
  #done(): void {
    this.#pending--;
    if (this.#pending > 0 || this.#worker === null) return;
    const worker = this.#worker;
    this.#idle = setTimeout(() => {
      this.#idle = null;
      if (this.#worker !== worker || this.#pending > 0) return;
      this.#worker = null;
      void worker.terminate();
    }, IDLE_MS);
    this.#idle.unref();
  }

  #run(file: string, bytes: Uint8Array, previousHash: string | null): Promise<ParsedFile> {
    return new Promise((resolve) => {
      const worker = this.#ensureWorker();
      this.#task = { file, objects: [], resolve };
      worker.ref();
      const request: ToWorker = { kind: 'parse', file, bytes, previousHash };
      const transfer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [];
      worker.postMessage(request, transfer);
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = new Worker(new URL('./parse-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (message: FromWorker) => this.#onMessage(worker, message));
    worker.on('error', (error) => this.#onDeath(worker, error.message));
    worker.on('exit', (code) => this.#onDeath(worker, `exit code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #onMessage(worker: Worker, message: FromWorker): void {
    const task = this.#task;
    if (task === null) return;
    switch (message.kind) {
      case 'objects':
        for (const object of message.objects) task.objects.push(object);
        worker.postMessage({ kind: 'next' } satisfies ToWorker);
        return;
      case 'unchanged':
        this.#settle(worker).resolve({ kind: 'unchanged', hash: message.hash });
        return;
      case 'done':
        this.#settle(worker).resolve({ kind: 'parsed', hash: message.hash, result: { objects: task.objects, errors: [...message.errors] } });
        return;
      case 'failed':
        this.#settle(worker).resolve(failedParse(task.file, `cannot parse: ${message.message}`));
    }
  }

  /** The task is over: the worker no longer holds the process open. */
  #settle(worker: Worker): Task {
    const task = this.#task as Task;
    this.#task = null;
    worker.unref();
    return task;
  }

  #onDeath(worker: Worker, reason: string): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    const task = this.#task;
    this.#task = null;
    task?.resolve(failedParse(task.file, `the manifest parser stopped while reading this file (${reason})`));
  }
}

/** A small file read on this thread: unchanged, or parsed by the fast reader; null for the worker. */
function readInline(file: string, bytes: Uint8Array, previousHash: string | null): ParsedFile | null {
  const hash = manifestHash(bytes);
  if (hash === previousHash) return { kind: 'unchanged', hash };
  // TextDecoder drops a byte-order mark and turns invalid UTF-8 into U+FFFD, as the worker does.
  const result = readBlockManifest(new TextDecoder('utf-8').decode(bytes), file);
  return result === null ? null : { kind: 'parsed', hash, result };
}

/** A file that could not be parsed at all: an error at its line 1, no objects. */
function failedParse(file: string, message: string): ParsedFile {
  const error: ManifestError = { file, line: 1, message };
  // A hash no content has: the next read parses the file again.
  return { kind: 'parsed', hash: '', result: { objects: [], errors: [error] } };
}

/** The one parser of the process. */
export const manifestParser = new ManifestParser();
