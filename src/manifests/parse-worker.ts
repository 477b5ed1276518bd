/**
 * The manifest parser's own thread: hashes and parses one file at a time (see parser.ts), so a
 * 10 MB file never stops the thread that serves traffic. Pure: no I/O besides its messages.
 */
import { parentPort } from 'node:worker_threads';
import { parseManifestText } from './parse.js';
import { BATCH_OBJECTS, manifestHash, type FromWorker, type ParseRequest, type ToWorker } from './parse-protocol.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker.js runs as a worker thread');

/** Resolves the wait for the client's `next`. */
let resume: (() => void) | null = null;

port.on('message', (message: ToWorker) => {
  if (message.kind === 'next') {
    const next = resume;
    resume = null;
    next?.();
    return;
  }
  handle(message).catch((err: unknown) => send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }));
});

function send(message: FromWorker): void {
  port!.postMessage(message);
}

async function handle(request: ParseRequest): Promise<void> {
  const hash = manifestHash(request.bytes);
  if (hash === request.previousHash) {
    send({ kind: 'unchanged', hash });
    return;
  }
  // TextDecoder drops a byte-order mark and turns invalid UTF-8 into U+FFFD, as readFile would.
  const text = new TextDecoder('utf-8').decode(request.bytes);
  const { objects, errors } = parseManifestText(text, request.file);
  for (let start = 0; start < objects.length; start += BATCH_OBJECTS) {
    const asked = new Promise<void>((resolve) => { resume = resolve; });
    send({ kind: 'objects', objects: objects.slice(start, start + BATCH_OBJECTS) });
    await asked;
  }
  send({ kind: 'done', hash, errors });
}
