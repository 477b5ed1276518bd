/** How much CPU other programs use while the benchmark measures (the machine may be shared). */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, machineBusySeconds } from './proc-stats.js';

function ownCpu(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // Ended meanwhile.
    }
  }
  return total + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
}

/** Cores busy with other programs (not this runner nor `ours`) over `sampleMs`. */
export async function foreignCores(ours: readonly number[], sampleMs = 1000): Promise<number> {
  const machine = machineBusySeconds();
  const own = ownCpu(ours);
  const began = performance.now();
  await sleep(sampleMs);
  const seconds = (performance.now() - began) / 1000;
  return Math.max(0, (machineBusySeconds() - machine - (ownCpu(ours) - own)) / seconds);
}

/**
 * Waits (up to `maxWaitS`) until other programs use less than `limit` cores; returns the last
 * measured foreign load, to print next to the numbers.
 */
export async function waitForQuiet(ours: readonly number[], limit: number, maxWaitS: number): Promise<number> {
  const deadline = performance.now() + maxWaitS * 1000;
  let load = await foreignCores(ours);
  while (load > limit && performance.now() < deadline) load = await foreignCores(ours);
  return load;
}
