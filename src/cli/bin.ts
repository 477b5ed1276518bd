/** The process entry of the `plexus` command (bin/plexus.js loads this file). */
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

// Path and header regexes come from users' SMI objects and run on every request. A pattern with
// catastrophic backtracking must not stall the node's proxy: past V8's backtrack limit the match
// falls back to its linear-time engine.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  },
);
