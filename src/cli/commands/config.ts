/**
 * `plexus config`: read a folder of Kubernetes YAML, compile it as the agent would, print the
 * MeshConfig (stdout) and every problem (stderr), and serve nothing. Every object is used,
 * reported as a problem, or listed on stderr as ignored (`ignored: …`: kinds Plexus does not use).
 *
 * Exit codes: 0 no error-severity problem (warnings are printed but do not fail), 1 at least one
 * error-severity problem (the config is still printed), 2 the input could not be read (missing
 * folder, unreadable file, YAML syntax error: printed as `path:line: message`; no config).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { formatManifestError } from '../../manifests/errors.js';
import { readManifestDir } from '../../manifests/read.js';
import { compile } from '../../routing/compile.js';
import { formatIgnored, ignoredObjects, type IgnoredKind } from '../../routing/ignored.js';
import { formatProblem } from '../../model/problem.js';
import { CliError, EXIT } from '../errors.js';
import { defaultNodeName, manifestsOption, meshDomainOption, vipCidrOption } from '../options.js';
import { renderMeshConfig } from '../render-config.js';

interface ConfigArgs {
  readonly manifests: string;
  readonly node: string;
  readonly output: 'text' | 'json';
  readonly meshDomain: string;
  readonly vipCidr: string;
}

function builder(yargs: Argv): Argv<ConfigArgs> {
  return yargs
    .option('manifests', { ...manifestsOption, demandOption: true })
    .option('node', {
      type: 'string',
      default: defaultNodeName(),
      defaultDescription: '$NODE_NAME, then the host name',
      describe: 'Compile for this node: its pods are the source identities',
    })
    .option('output', {
      alias: 'o',
      choices: ['text', 'json'] as const,
      default: 'text' as const,
      describe: 'text: a readable summary per Service and port; json: the MeshConfig as the agent serves it',
    })
    .option('mesh-domain', meshDomainOption)
    .option('vip-cidr', vipCidrOption)
    .example('$0 config --manifests examples/shop', 'Summarise the example shop')
    .example('$0 config --manifests k8s/ -o json', 'The MeshConfig as JSON') as unknown as Argv<ConfigArgs>;
}

async function handler(args: ArgumentsCamelCase<ConfigArgs>): Promise<void> {
  const input = await readManifestDir(args.manifests).catch((err: Error) => {
    throw new CliError(err.message, EXIT.FAILURE);
  });
  if (input.errors.length > 0) {
    for (const error of input.errors) console.error(formatManifestError(error));
    throw new CliError(`${input.errors.length} file error${input.errors.length === 1 ? '' : 's'}: nothing compiled`, EXIT.FAILURE);
  }
  const config = compile(input.snapshot, {
    nodeName: args.node,
    meshDomain: args.meshDomain,
    // Local mode listens on VIP:port: no Kubernetes-mode listener ports.
    listenerPorts: null,
    vipCidr: args.vipCidr,
    deriveEndpointsFromPods: true,
  });
  process.stdout.write(args.output === 'json' ? `${JSON.stringify(config, null, 2)}\n` : renderMeshConfig(config));
  for (const problem of config.problems) console.error(`${problem.severity}: ${formatProblem(problem)}`);
  for (const line of ignoredLines(ignoredObjects(input.snapshot))) console.error(line);
  const errors = config.problems.filter((p) => p.severity === 'error').length;
  if (errors > 0) throw new CliError(`${errors} error${errors === 1 ? '' : 's'} found`, EXIT.PROBLEMS);
}

/** Objects listed per kind; the rest are counted. */
const LISTED_IGNORED = 20;

/** `ignored: Deployment shop/web (apps/v1, web.yaml:12): a kind Plexus does not use`, per object. */
function ignoredLines(ignored: readonly IgnoredKind[]): string[] {
  const lines: string[] = [];
  for (const { apiVersion, kind, objects } of ignored) {
    for (const object of objects.slice(0, LISTED_IGNORED)) lines.push(`ignored: ${formatIgnored(object)}: a kind Plexus does not use`);
    const more = objects.length - LISTED_IGNORED;
    if (more > 0) lines.push(`ignored: … and ${more} more ${kind} (${apiVersion})`);
  }
  return lines;
}

export const configCommand: CommandModule<object, ConfigArgs> = {
  command: 'config',
  describe: 'Compile a folder of manifests and print the MeshConfig and every problem, without serving',
  builder,
  handler,
};
