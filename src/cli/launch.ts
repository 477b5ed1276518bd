/**
 * How a `plexus` process is started, in one place: the first line of bin/plexus.js,
 * `#!/usr/bin/env -S node <node options>`. The image's entrypoint runs that file (Dockerfile:
 * /usr/local/bin/plexus → bin/plexus.js), so the DaemonSet's agents and the issuer run with
 * these options; `npm install -g` links the same file. `plexus demo` and `npm run bench` start
 * agents with the options read from that line, so nobody measures or demonstrates an agent that
 * users do not run. docs/performance.md ("How the agent is launched") says why each option is
 * there; a unit test holds the Dockerfile, the manifests and the docs to this line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';

/** The file users run (`plexus`, the image's entrypoint). */
export const PLEXUS_BIN = join(PACKAGE_ROOT, 'bin', 'plexus.js');

const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=[^\s]+)?)*)$/;

/** The node options of a `#!/usr/bin/env -S node …` first line; throws on any other line. */
export function nodeOptionsOf(firstLine: string): string[] {
  const match = SHEBANG.exec(firstLine);
  if (match === null) throw new Error(`${PLEXUS_BIN}: the first line must be '#!/usr/bin/env -S node [--option...]', not '${firstLine}'`);
  return (match[1] ?? '').split(' ').filter((option) => option !== '');
}

let options: readonly string[] | null = null;

/** The node options every `plexus` process runs with (bin/plexus.js's first line). */
export function launchNodeOptions(): readonly string[] {
  options ??= nodeOptionsOf(readFileSync(PLEXUS_BIN, 'utf8').split('\n', 1)[0] ?? '');
  return options;
}
