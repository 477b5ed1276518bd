/**
 * `plexus ca init|rotate|retire --dir DIR`: the mesh CA of local secure mode, kept in a folder
 * (`ca.crt` 0644, `ca.key` 0600; `ca-previous.crt` while a rotation is in progress).
 * Without `--dir`, `rotate` and `retire` act on the cluster's CA Secret (made by `plexus prepare`).
 * See docs/secure-mode.md for the lifecycle.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CaError, initCaDir, retireCaDir, rotateCaDir, type MeshCa } from '../../secure/ca.js';
import { DEFAULT_TRUST_DOMAIN } from '../../secure/defaults.js';
import { CliError, EXIT } from '../errors.js';
import { kubeconfigOption } from '../options.js';

interface CaArgs {
  readonly action: 'init' | 'rotate' | 'retire';
  readonly dir: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly force: boolean;
  readonly wait: number;
}

function builder(yargs: Argv): Argv<CaArgs> {
  return yargs
    .positional('action', {
      choices: ['init', 'rotate', 'retire'] as const,
      demandOption: true,
      describe: 'init: create a CA; rotate: add a new signing root, keeping the old one trusted; retire: drop the old root',
    })
    .option('dir', { type: 'string', describe: 'The CA folder (the agent\'s --ca-dir); without it, rotate and retire act on the CA Secret of the cluster' })
    .option('kubeconfig', { ...kubeconfigOption, describe: 'Without --dir: the kubeconfig file' })
    .option('namespace', { type: 'string', default: 'plexus', describe: 'Without --dir: the mesh namespace holding the CA Secret' })
    .option('trust-domain', {
      type: 'string',
      default: DEFAULT_TRUST_DOMAIN,
      describe: 'init: the SPIFFE trust domain of the mesh (the agent\'s --trust-domain)',
    })
    .option('force', {
      type: 'boolean',
      default: false,
      describe: 'init: replace an existing CA; retire: retire before every certificate of the old root has expired',
    })
    .option('wait', {
      type: 'number', default: 20,
      describe: 'Without --dir, rotate: seconds between publishing the new root and signing with it (agents re-read the trust bundle every 10 s)',
    })
    .example('$0 ca init --dir ~/.plexus/ca', 'Create the CA for local secure mode')
    .example('$0 ca rotate --dir ~/.plexus/ca', 'Start a rotation; run "ca retire" a day later')
    .example('$0 ca rotate', 'Start a rotation of the cluster\'s CA Secret') as unknown as Argv<CaArgs>;
}

async function handler(args: ArgumentsCamelCase<CaArgs>): Promise<void> {
  try {
    if (args.dir === undefined) {
      process.stdout.write(await runInCluster(args));
      return;
    }
    const ca = await run(args, args.dir);
    process.stdout.write(describe(args.action, args.dir, ca));
  } catch (err) {
    if (err instanceof CaError) throw new CliError(err.message, EXIT.FAILURE);
    throw err;
  }
}

function run(args: CaArgs, dir: string): Promise<MeshCa> {
  switch (args.action) {
    case 'init': return initCaDir(dir, { trustDomain: args.trustDomain, force: args.force });
    case 'rotate': return rotateCaDir(dir);
    case 'retire': return retireCaDir(dir, { force: args.force });
  }
}

/** Loaded only without --dir: local `plexus ca` never loads the Kubernetes client. */
async function runInCluster(args: CaArgs): Promise<string> {
  if (args.action === 'init') throw new CliError('in a cluster the CA is created by plexus prepare; ca init needs --dir DIR (local mode)');
  const { failure, loadKubeConfig } = await import('./prepare.js');
  const { changeClusterCa } = await import('./cluster-ca.js');
  const kc = loadKubeConfig(args.kubeconfig);
  try {
    return await changeClusterCa(kc, args.namespace, { action: args.action, force: args.force, propagationMs: args.wait * 1000 });
  } catch (err) {
    throw failure(kc, err);
  }
}

function describe(action: CaArgs['action'], dir: string, ca: MeshCa): string {
  const root = `root "${ca.cert.subject.replaceAll('\n', ', ')}" valid until ${new Date(ca.cert.validTo).toISOString()}`;
  switch (action) {
    case 'init': return `created the CA of trust domain ${ca.trustDomain} in ${dir}: ${root}\n`;
    case 'rotate': return `new signing ${root}; the old root stays trusted until 'plexus ca retire --dir ${dir}'\n`;
    case 'retire': return `retired the old root; only the ${root} is trusted now\n`;
  }
}

export const caCommand: CommandModule<object, CaArgs> = {
  command: 'ca <action>',
  describe: 'Create, rotate or retire the mesh CA (a folder in local mode, the CA Secret in a cluster)',
  builder,
  handler,
};
