/**
 * tsc never removes what it emitted for a source that has since been moved or deleted, so dist/
 * keeps them — and mocha's globs (`dist/test/unit/**`) still ran the old copy of a moved test
 * against the new code (23 false failures in one run). `npm test` and `npm run test:unit` call
 * this first (mocha-isolated.ts): every dist/ .js (and its .map) whose .ts source is gone is
 * removed. A clean clone has none.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './paths.js';

const DIST = join(REPO_ROOT, 'dist');

function prune(dir: string): number {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += prune(path);
    } else if (entry.name.endsWith('.js') && !existsSync(join(REPO_ROOT, relative(DIST, path)).replace(/\.js$/, '.ts'))) {
      rmSync(path);
      rmSync(`${path}.map`, { force: true });
      removed += 1;
    }
  }
  return removed;
}

/** Removes the outputs of removed sources; says how many in one line when there were any. */
export function pruneStaleOutputs(): void {
  if (!existsSync(DIST)) return;
  const removed = prune(DIST);
  if (removed > 0) console.log(`(removed ${removed} file(s) of dist/ whose source is gone: moved or deleted since they were built)`);
}
