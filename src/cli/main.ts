/**
 * `plexus` command line: parses argv with yargs and runs one command; resolves to the exit code.
 * Commands live one per module in ./commands and are registered from COMMANDS below.
 * Every option also reads the environment variable PLEXUS_<OPTION> (`--admin-port` ←
 * PLEXUS_ADMIN_PORT); the command line wins over the environment.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { agentCommand } from './commands/agent.js';
import { configCommand } from './commands/config.js';
import { demoCommand } from './commands/demo.js';
import { prepareCommand } from './commands/prepare.js';
import { cleanupCommand } from './commands/cleanup.js';
import { checkCommand } from './commands/check.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { packageVersion } from './package-root.js';

// Each command declares its own options, so the list holds command modules of any argv type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<object, any>;

/** Add a command here (one line) to make it available. */
const COMMANDS: readonly AnyCommand[] = [
  agentCommand,
  configCommand,
  demoCommand,
  prepareCommand,
  cleanupCommand,
  checkCommand,
  (await import('./commands/ca.js')).caCommand,
];

function buildParser(argv: readonly string[]): Argv {
  let parser: Argv = yargs([...argv])
    .scriptName('plexus')
    .usage('$0 <command> [options]\n\nPlexus: a per-node service mesh with SMI routing and authorization.')
    .env('PLEXUS')
    .strict()
    .demandCommand(1, 'Name a command: see the list above.')
    .recommendCommands()
    .version(packageVersion())
    .alias('help', 'h')
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Every option also reads the environment variable PLEXUS_<OPTION>, e.g. PLEXUS_ADMIN_PORT. '
      + 'Exit codes: 0 success, 1 problems found, 2 usage error or failure. Docs: docs/cli.md')
    .fail((message: string | null, error: Error | undefined) => {
      // YError: the parser's own (e.g. an option's coerce rejected a value); others come from handlers.
      if (error && error.name !== 'YError') throw error;
      throw new UsageError(message ?? error?.message ?? 'invalid command line');
    });
  for (const command of COMMANDS) parser = parser.command(command);
  return parser;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildParser(argv).parseAsync();
    return EXIT.OK;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`plexus: ${err.message}\nRun 'plexus --help' for usage.`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      if (err.message) console.error(`plexus: ${err.message}`);
      return err.exitCode;
    }
    // An unexpected failure is a bug: keep the stack for the report.
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    return EXIT.FAILURE;
  }
}
