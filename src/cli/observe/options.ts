/**
 * The options every observing command shares: `--admin URL` (agents on this machine, repeat for
 * several) or, without it, the cluster of `--kubeconfig` / `--namespace` (the mesh namespace).
 */
import type { Argv } from 'yargs';
import { clusterOptions, loadKubeConfig, type ClusterArgs } from '../commands/prepare.js';
import { CliError, EXIT } from '../errors.js';
import { ClusterAgents, LocalAgents, type AgentAccess } from './agents.js';

export interface ObserveArgs extends ClusterArgs {
  readonly admin: readonly string[];
}

export function observeOptions<T>(yargs: Argv<T>): Argv<T & ObserveArgs> {
  return clusterOptions(yargs)
    .option('admin', {
      type: 'string', array: true, default: [] as string[],
      describe: 'Admin URL of an agent on this machine (http://127.0.0.1:9901); repeat for several. Without it: every agent of the cluster, through the API server',
    }) as unknown as Argv<T & ObserveArgs>;
}

export function agentAccess(args: ObserveArgs): AgentAccess {
  if (args.admin.length === 0) return new ClusterAgents(loadKubeConfig(args.kubeconfig), args.namespace);
  for (const url of args.admin) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`--admin: "${url}" is not a URL (http://127.0.0.1:9901)`, EXIT.FAILURE);
    }
    if (parsed.protocol !== 'http:') throw new CliError(`--admin: "${url}" is not an http:// URL`, EXIT.FAILURE);
  }
  return new LocalAgents(args.admin);
}

/** A positive number of seconds, for --window and --duration. */
export function seconds(name: string, allowZero: boolean) {
  return (value: number): number => {
    if (!(allowZero ? value >= 0 : value > 0) || !Number.isFinite(value)) throw new Error(`--${name}: "${value}" is not a ${allowZero ? '' : 'positive '}number of seconds`);
    return value;
  };
}

/** A whole number ≥ `min`, for --max and --rows. */
export function count(name: string, min: number) {
  return (value: number): number => {
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name}: "${value}" is not a whole number >= ${min}`);
    return value;
  };
}
