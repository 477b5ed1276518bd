/**
 * `plexus issuer`: the cluster's certificate issuer (secure mode), run by the Deployment
 * `plexus-issuer` of manifests/45-issuer.yaml. SIGINT / SIGTERM drain it (docs/secure-mode.md).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { IssuerPlaces } from '../../issuer/issuer-run.js';
import { DEFAULT_ISSUER_PORT } from '../../secure/defaults.js';
import { createLogger, LOG_LEVELS, logFormatOption, type LogFormat, type LogLevel } from '../logger.js';
import { certLifetimeOption, drainTimeoutOption, drainWindowOption, kubeconfigOption, portOption, trustDomainOption } from '../options.js';
import { runUntilStopped } from '../stop-signal.js';

interface IssuerArgs extends IssuerPlaces {
  readonly kubeconfig: string | undefined;
  readonly certLifetime: number;
  readonly drainWindow: number;
  readonly drainTimeout: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

function builder(yargs: Argv): Argv<IssuerArgs> {
  return yargs
    .option('kubeconfig', kubeconfigOption)
    .option('namespace', { type: 'string', default: 'plexus', describe: 'The mesh namespace (the CA Secret, the agent pods)' })
    .option('trust-domain', trustDomainOption)
    .option('listen-address', { type: 'string', default: '0.0.0.0', describe: 'Where the issuer endpoint binds' })
    .option('port', portOption('port', 'The issuer endpoint\'s port (HTTPS); 0 = any free port', DEFAULT_ISSUER_PORT))
    .option('admin-address', { type: 'string', default: '0.0.0.0', describe: 'Admin server address: /readyz, /healthz, /metrics, /config' })
    .option('admin-port', portOption('admin-port', 'Admin server port (0 = any free port, logged)', 9901))
    .option('cert-lifetime', certLifetimeOption)
    .option('drain-window', drainWindowOption)
    .option('drain-timeout', drainTimeoutOption(10))
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log level (on stderr)' })
    .option('log-format', logFormatOption())
    .example('$0 issuer --namespace plexus', 'What the Deployment plexus-issuer runs') as unknown as Argv<IssuerArgs>;
}

/**
 * Tuning not exposed as a flag: ISSUER_CA_RELOAD_SECONDS (tests re-read the Secret faster). Not
 * `PLEXUS_*`: the CLI reads every `PLEXUS_<OPTION>` variable as an option and rejects unknown ones.
 */
function caReloadFromEnv(env: NodeJS.ProcessEnv = process.env): { caReloadMs?: number } {
  const seconds = Number(env.ISSUER_CA_RELOAD_SECONDS);
  return seconds > 0 ? { caReloadMs: seconds * 1000 } : {};
}

async function handler(args: ArgumentsCamelCase<IssuerArgs>): Promise<void> {
  const logger = createLogger(args.logLevel, args.logFormat);
  const { runIssuer } = await import('../../issuer/issuer-run.js');
  const { namespace, trustDomain, listenAddress, port, adminAddress, adminPort } = args;
  await runUntilStopped('issuer', logger, (signal) => runIssuer({
    namespace, trustDomain, listenAddress, port, adminAddress, adminPort, kubeconfig: args.kubeconfig ?? null,
    certLifetimeMs: args.certLifetime * 1000, drainWindowMs: args.drainWindow * 1000, drainTimeoutMs: args.drainTimeout * 1000, logger,
    ...caReloadFromEnv(),
  }, signal));
}

export const issuerCommand: CommandModule<object, IssuerArgs> = {
  command: 'issuer',
  describe: 'Run the cluster\'s certificate issuer (secure mode; the Deployment plexus-issuer)',
  builder,
  handler,
};
