/**
 * Starts `plexus agent --manifests DIR` (local mode) as users run it, with the node options of
 * bin/plexus.js (src/cli/launch.ts), and talks to its admin port.
 */
import { launchNodeOptions } from '../../src/cli/launch.js';
import { httpGet, waitForHttp } from './net.js';
import { PLEXUS_ARGV } from './paths.js';
import { start, type Managed } from './processes.js';
import { sumOfMetric } from './prometheus-text.js';

export interface AgentStart {
  readonly manifestsDir: string;
  readonly vipCidr: string;
  readonly acl: boolean;
  readonly cpu: number | null;
  /** Raise the agent's open-files limit (one per listener and per connection). */
  readonly openFiles?: number;
  readonly readyTimeoutMs: number;
  /** More `plexus agent` options (e.g. secure mode's). */
  readonly extraArgs?: readonly string[];
}

export interface LocalAgent {
  readonly process: Managed;
  readonly adminPort: number;
  /** `namespace/name` → VIP, as the agent logged when ready. */
  readonly vips: Readonly<Record<string, string>>;
  /** Milliseconds from spawn to the `agent ready` line (first config compiled and bound). */
  readonly startupMs: number;
  /** The exact command line, for the output. */
  readonly commandLine: string;
}

interface ReadyLine {
  readonly msg: string;
  readonly adminPort: number;
  readonly vips: Record<string, string>;
}

/** The command that starts the agent: node with bin/plexus.js's options, as users run it. */
export function agentCommand(options: AgentStart): { readonly args: string[]; readonly commandLine: string } {
  const nodeOptions = launchNodeOptions();
  const agentArgs = [
    'agent', '--manifests', options.manifestsDir, '--vip-cidr', options.vipCidr,
    '--dns-port', '0', '--admin-port', '0', ...(options.acl ? ['--acl'] : []), ...(options.extraArgs ?? []),
  ];
  const pin = options.cpu === null ? '' : `taskset -c ${options.cpu} `;
  const limit = options.openFiles === undefined ? '' : `ulimit -n ${options.openFiles}; `;
  return {
    args: [...nodeOptions, ...PLEXUS_ARGV, ...agentArgs],
    commandLine: `${limit}${pin}node ${[...nodeOptions, 'bin/plexus.js', ...agentArgs].join(' ')}`,
  };
}

export async function startAgent(options: AgentStart): Promise<LocalAgent> {
  const { args, commandLine } = agentCommand(options);
  const began = performance.now();
  const child = start({ name: 'plexus agent', command: process.execPath, args, cpu: options.cpu, openFiles: options.openFiles });
  const line = await child.waitForLine((l) => l.includes('"msg":"agent ready"'), options.readyTimeoutMs)
    .catch(async (err: unknown) => {
      await child.stop();
      throw err;
    });
  const startupMs = performance.now() - began;
  const ready = JSON.parse(line) as ReadyLine;
  await waitForHttp(`http://127.0.0.1:${ready.adminPort}/readyz`, 10_000);
  return { process: child, adminPort: ready.adminPort, vips: ready.vips, startupMs, commandLine };
}

/** The generation `/readyz` reports (0 before the first apply). */
export async function appliedGeneration(agent: LocalAgent): Promise<number> {
  const answer = await httpGet(`http://127.0.0.1:${agent.adminPort}/readyz`);
  if (answer.status !== 200) return 0;
  return (JSON.parse(answer.body) as { generation?: number }).generation ?? 0;
}

export async function agentMetric(agent: LocalAgent, metric: string): Promise<number | null> {
  const answer = await httpGet(`http://127.0.0.1:${agent.adminPort}/metrics`);
  return sumOfMetric(answer.body, metric);
}
