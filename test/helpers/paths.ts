/**
 * Where things are, for tests that start the real `plexus` binary. Tests are compiled next to
 * the sources (dist/ for `npm test`, or a private build folder while developing), so the CLI
 * entry is found relative to this module; from dist/ the user's own `bin/plexus.js` is used.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../../src/cli/package-root.js';

const buildRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The repository root (the folder holding package.json). */
export const REPO_ROOT = PACKAGE_ROOT;

/** Arguments for `spawn(process.execPath, [...PLEXUS_ARGV, ...args])`. */
export const PLEXUS_ARGV: readonly string[] = resolve(buildRoot) === resolve(REPO_ROOT, 'dist')
  ? [join(REPO_ROOT, 'bin', 'plexus.js')]
  : [join(buildRoot, 'src', 'cli', 'bin.js')];

/** Test fixtures are data, not compiled: always read them from the source tree. */
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
