/**
 * The external programs the benchmark drives. Missing ones are installed from Debian's packages
 * when this runs as root on a system with apt-get; otherwise their rows are skipped with a note.
 */
import { spawnSync } from 'node:child_process';

export interface Tools {
  readonly wrk: boolean;
  readonly nginx: boolean;
  readonly haproxy: boolean;
  /** What was installed or why something is missing. */
  readonly notes: readonly string[];
}

const PACKAGES: Readonly<Record<'wrk' | 'nginx' | 'haproxy', string>> = { wrk: 'wrk', nginx: 'nginx-light', haproxy: 'haproxy' };

function found(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command}`], { stdio: 'ignore' }).status === 0;
}

/** Finds wrk, nginx and haproxy, installing the missing ones when allowed. */
export function ensureTools(install: boolean): Tools {
  const notes: string[] = [];
  const missing = (Object.keys(PACKAGES) as (keyof typeof PACKAGES)[]).filter((tool) => !found(tool));
  if (missing.length > 0) {
    const packages = missing.map((tool) => PACKAGES[tool]);
    const root = process.getuid?.() === 0;
    if (install && root && found('apt-get')) {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      let result = spawnSync('apt-get', ['install', '-y', ...packages], { env, encoding: 'utf8' });
      if (result.status !== 0) {
        spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
        result = spawnSync('apt-get', ['install', '-y', ...packages], { env, encoding: 'utf8' });
      }
      notes.push(result.status === 0 ? `installed ${packages.join(', ')} with apt-get` : `apt-get install ${packages.join(' ')} failed: ${(result.stderr ?? '').trim().split('\n').pop()}`);
    } else {
      notes.push(`missing ${packages.join(', ')}: ${install ? (root ? 'no apt-get' : 'not root') : '--no-install'}; install them (apt-get install -y ${packages.join(' ')}) for those rows`);
    }
  }
  return { wrk: found('wrk'), nginx: found('nginx'), haproxy: found('haproxy'), notes };
}

/** `nginx` is in /usr/sbin, not always on a non-root PATH. */
export function commandPath(command: 'nginx' | 'haproxy' | 'wrk'): string {
  const result = spawnSync('sh', ['-c', `command -v ${command} || echo /usr/sbin/${command}`], { encoding: 'utf8' });
  return result.stdout.trim();
}
