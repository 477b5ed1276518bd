/**
 * The installed Plexus package: its root folder (holding package.json, examples/) and version.
 * Found by walking up from this module, so it works from dist/ and from any build folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'plexus') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('the plexus package.json was not found above the program');
    dir = up;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
