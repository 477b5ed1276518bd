/**
 * `plexus dashboard`: the mesh as a live graph in a web page served on loopback by this command
 * (docs/cli.md#plexus-dashboard). The page reads only this server, which reads the agents
 * (`--admin` URLs, or the cluster's agents through the API server's pod proxy), so nothing but
 * loopback is opened on this machine and the agents' admin ports need no exposure.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DashboardServer } from '../dashboard/server.js';
import { MeshView } from '../dashboard/mesh-view.js';
import { agentAccess, observeOptions, seconds, type ObserveArgs } from '../observe/options.js';
import { CliError, EXIT } from '../errors.js';
import { portOption } from '../options.js';
import { untilStopped } from './tap.js';

interface DashboardArgs extends ObserveArgs {
  readonly port: number;
  readonly address: string;
  readonly duration: number;
}

function builder(yargs: Argv): Argv<DashboardArgs> {
  return observeOptions(yargs)
    .option('port', portOption('port', 'Port of the dashboard page on --address (0 = any free port)', 9902))
    .option('address', { type: 'string', default: '127.0.0.1', describe: 'Address the page is served on (keep it loopback: the page has no login)' })
    .option('duration', { type: 'number', default: 0, describe: 'Stop after this many seconds (0 = until Ctrl-C)', coerce: seconds('duration', true) })
    .example('$0 dashboard --admin http://127.0.0.1:9901', 'The demo\'s mesh, at http://127.0.0.1:9902/')
    .example('$0 dashboard', 'The cluster of the current kubeconfig context') as unknown as Argv<DashboardArgs>;
}

async function handler(args: ArgumentsCamelCase<DashboardArgs>): Promise<void> {
  const access = agentAccess(args);
  const view = new MeshView(access);
  const server = new DashboardServer(view, access);
  try {
    await server.listen(args.address, args.port);
  } catch (error) {
    throw new CliError(`cannot serve the dashboard on ${args.address}:${args.port}: ${error instanceof Error ? error.message : String(error)} (see --port)`, EXIT.FAILURE);
  }
  const { stopped } = untilStopped(args.duration);
  try {
    await view.start();
    const host = args.address.includes(':') ? `[${args.address}]` : args.address;
    console.log(`Plexus dashboard: http://${host}:${server.port}/ (reading ${access.description}; Ctrl-C to stop)`);
    const problems = view.graph().unreachable;
    for (const problem of problems) console.error(`warning: ${problem}`);
    await stopped;
  } finally {
    await view.stop();
    await server.close();
  }
}

export const dashboardCommand: CommandModule<object, DashboardArgs> = {
  command: 'dashboard',
  describe: 'Serve a live graph of the mesh (rates, success, splits, live requests) on a loopback web page',
  builder,
  handler,
};
