/**
 * A bounded steady load with config changes mixed in: `total` operations, `concurrency` at a
 * time, stopping at `deadlineMs` whatever happens; one config is applied every
 * `total / (configs + 1)` completed operations, so reloads land in the middle of the traffic.
 */
import type { ApplyReport } from '../../../src/node-agent/agent.js';
import type { Endpoint, MeshConfig } from '../../../src/routing/mesh-config.js';
import { meshConfig, type ServiceSpec } from './fixtures.js';

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

/**
 * `count` configs of the one-port Service that `service` builds: config i leaves endpoint
 * i mod 3 out and splits the port between two backends (`<name>-v1` with the rest, `<name>-v2`
 * with the next endpoint) at weights 10+i / 30-i, so each reload changes endpoints and weights.
 */
export function rotatingSplitConfigs(service: (endpoints: readonly Endpoint[]) => ServiceSpec, endpoints: readonly Endpoint[], count: number): MeshConfig[] {
  const configs: MeshConfig[] = [];
  for (let i = 0; i < count; i++) {
    const first = endpoints.filter((_, index) => index !== i % endpoints.length);
    const second = [endpoints[(i + 1) % endpoints.length] as Endpoint];
    const config = meshConfig([service(first)]);
    const built = config.services[0];
    const port = built?.ports[0];
    if (!built || !port) throw new Error('fixture has no port');
    const name = `${built.namespace}/${built.name}`;
    configs.push({
      ...config,
      services: [{
        ...built,
        ports: [{
          ...port,
          destination: {
            kind: 'backends', split: `${name}-split`,
            backends: [
              { service: `${name}-v1`, weight: 10 + i, endpoints: first },
              { service: `${name}-v2`, weight: 30 - i, endpoints: second },
            ],
          },
        }],
      }],
    });
  }
  return configs;
}
