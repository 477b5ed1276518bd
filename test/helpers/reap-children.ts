/**
 * Required by every mocha run here (.mocharc.json): the processes a test run starts do not
 * outlive it. Agents are started detached (their own process group, so a terminal's Ctrl-C
 * reaches only their parent, which then stops them once) — when mocha itself is interrupted,
 * nothing would stop them, and a leaked agent keeps its ports, its Lease and its CPU.
 *
 * Every process a run starts inherits PLEXUS_TEST_RUN=<mocha's pid> <its start time> <checkout>.
 * - When the run ends (exit) what is left of them is killed.
 * - On SIGINT/SIGTERM they get SIGTERM (agents drain), SIGKILL after a bounded wait, and mocha
 *   exits as the signal would have made it.
 * - A run that could not clean up (mocha SIGKILLed) is cleaned up by the next run in the same
 *   checkout: at start, processes marked by a run of this checkout that is gone are killed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { REPO_ROOT } from './paths.js';

const MARK = 'PLEXUS_TEST_RUN';
const TERM_GRACE_MS = 5_000;

interface Owner { readonly pid: number; readonly start: string; readonly root: string }

/** A process's start time (clock ticks since boot; /proc/PID/stat field 22), or null when gone. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function ownerOf(pid: number): Owner | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return null;
  }
  const entry = environ.split('\0').find((line) => line.startsWith(`${MARK}=`));
  const match = entry === undefined ? null : /^(\d+) (\d+) (.*)$/s.exec(entry.slice(MARK.length + 1));
  return match ? { pid: Number(match[1]), start: match[2]!, root: match[3]! } : null;
}

/** The processes marked by runs of this checkout for which `mine` holds. */
function marked(mine: (owner: Owner) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const owner = ownerOf(pid);
    if (owner !== null && owner.root === REPO_ROOT && mine(owner)) pids.push(pid);
  }
  return pids;
}

function signal(pids: readonly number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}

const self = { pid: process.pid, start: startTime(process.pid) ?? '' };
const isSelf = (owner: Owner): boolean => owner.pid === self.pid && owner.start === self.start;
const isGone = (owner: Owner): boolean => startTime(owner.pid) !== owner.start;

if (process.platform === 'linux') {
  signal(marked(isGone), 'SIGKILL');
  process.env[MARK] = `${self.pid} ${self.start} ${REPO_ROOT}`;
  process.on('exit', () => signal(marked(isSelf), 'SIGKILL'));
  let stopping = false;
  for (const [name, number] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
    process.on(name, () => {
      if (stopping) return;
      stopping = true;
      const pids = marked(isSelf);
      signal(pids, 'SIGTERM');
      const deadline = Date.now() + TERM_GRACE_MS;
      const poll = setInterval(() => {
        const left = pids.filter((pid) => startTime(pid) !== null && ownerOf(pid) !== null);
        if (left.length > 0 && Date.now() < deadline) return;
        clearInterval(poll);
        signal(left, 'SIGKILL');
        process.exit(128 + number);
      }, 100);
    });
  }
}
