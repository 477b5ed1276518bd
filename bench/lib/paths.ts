/**
 * Where the compiled pieces are. The benchmark runs from any build folder (dist/ for
 * `npm run bench`, a private one while developing): everything is found relative to it, and from
 * dist/ the agent starts as users start it, through bin/plexus.js.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT as repoRoot } from '../../src/cli/package-root.js';

const buildRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `node ...PLEXUS_ARGV agent ...` runs the plexus CLI. */
export const PLEXUS_ARGV: readonly string[] = buildRoot === resolve(repoRoot, 'dist')
  ? [join(repoRoot, 'bin', 'plexus.js')]
  : [join(buildRoot, 'src', 'cli', 'bin.js')];

export const NAMED_BACKENDS_JS = join(buildRoot, 'bench', 'lib', 'named-backends.js');
export const TCP_PIPE_JS = join(buildRoot, 'bench', 'lib', 'tcp-pipe.js');
export const TUNNEL_PIPE_JS = join(buildRoot, 'bench', 'lib', 'tunnel-pipe.js');
export const RELAY_FLOOR_JS = join(buildRoot, 'bench', 'lib', 'relay-floor.js');
export const COMPILE_PROBE_JS = join(buildRoot, 'bench', 'lib', 'compile-probe.js');
/** bench/compile.ts (the routing compile benchmark), compiled. */
export const COMPILE_BENCH_JS = join(buildRoot, 'bench', 'compile.js');
