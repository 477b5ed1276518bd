/**
 * A bounded steady load with config changes mixed in: `total` operations, `concurrency` at a
 * time, stopping at `deadlineMs` whatever happens; one config is applied every
 * `total / (configs + 1)` completed operations, so reloads land in the middle of the traffic.
 */
import type { ApplyReport } from '../../../src/node-agent/agent.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';

export interface ReloadLoad {
  readonly total: number;
  readonly concurrency: number;
  readonly deadlineMs: number;
  readonly configs: readonly MeshConfig[];
  readonly apply: (config: MeshConfig) => Promise<ApplyReport>;
  readonly send: () => Promise<void>;
}

export interface ReloadLoadResult {
  readonly completed: number;
  readonly failures: readonly string[];
  readonly reloads: number;
}

export async function runUnderReloads(load: ReloadLoad): Promise<ReloadLoadResult> {
  const deadline = Date.now() + load.deadlineMs;
  const every = Math.floor(load.total / (load.configs.length + 1));
  const failures: string[] = [];
  const applies: Promise<unknown>[] = [];
  let started = 0;
  let completed = 0;
  const worker = async (): Promise<void> => {
    while (started < load.total && Date.now() < deadline) {
      started++;
      try {
        await load.send();
      } catch (error) {
        failures.push(String(error));
      }
      completed++;
      const config = completed % every === 0 ? load.configs[completed / every - 1] : undefined;
      if (config) applies.push(load.apply(config).catch((error: unknown) => failures.push(`apply: ${String(error)}`)));
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, worker));
  await Promise.all(applies);
  return { completed, failures, reloads: applies.length };
}
