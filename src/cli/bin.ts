/** The process entry of the `plexus` command (bin/plexus.js loads this file). */
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

// Path and header regexes come from users' SMI objects and run on every request. A pattern with
// catastrophic backtracking must not stall the node's proxy: past V8's backtrack limit the match
// falls back to its linear-time engine.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

// `plexus check | head`: a reader that went away is no crash. The rest of the output is dropped;
// the command still runs to its end, so its exit code (what `set -o pipefail` sees) stays true.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  },
);
