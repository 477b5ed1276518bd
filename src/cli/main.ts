/**
 * `plexus` command line: parses argv with yargs and runs one command; resolves to the exit code.
 * Commands live one per module in ./commands and are registered from COMMANDS below.
 * Every option also reads the environment variable PLEXUS_<OPTION> (`--admin-port` ←
 * PLEXUS_ADMIN_PORT; see env-args.ts); the command line wins over the environment.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { agentCommand } from './commands/agent.js';
import { configCommand } from './commands/config.js';
import { demoCommand } from './commands/demo.js';
import { prepareCommand } from './commands/prepare.js';
import { cleanupCommand } from './commands/cleanup.js';
import { checkCommand } from './commands/check.js';
import { argsFromEnv, type DeclaredOptions } from './env-args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { packageVersion } from './package-root.js';

// Each command declares its own options, so the list holds command modules of any argv type.
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
    .strict()
    .demandCommand(1, 'Name a command: see the list above.')
    .recommendCommands()
    .version(packageVersion())
    .alias('help', 'h')
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Every option also reads the environment variable PLEXUS_<OPTION>, e.g. PLEXUS_ADMIN_PORT (the command line wins). '
      + 'Exit codes: 0 success, 1 problems found, 2 usage error or failure. Docs: docs/cli.md')
    .fail((message: string | null, error: Error | undefined) => {
      // YError: the parser's own (e.g. an option's coerce rejected a value); others come from handlers.
      if (error && error.name !== 'YError') throw error;
      throw new UsageError(message ?? error?.message ?? 'invalid command line');
    });
  for (const command of COMMANDS) parser = parser.command(command);
  return parser;
}

/** yargs' introspection of declared options (present at runtime, missing from @types/yargs). */
interface OptionsIntrospection {
  getOptions(): { key: Record<string, boolean>; alias: Record<string, string[]> };
}

/** The options `command` declares, read by running its builder on a scratch parser. */
function declaredOptions(command: AnyCommand): DeclaredOptions {
  const scratch = yargs([]);
  if (typeof command.builder === 'function') command.builder(scratch);
  const { key, alias } = (scratch as unknown as OptionsIntrospection).getOptions();
  return { names: Object.keys(key), aliases: alias };
}

/** argv with the invoked command's options from PLEXUS_* variables added after the command name. */
function withEnvironment(argv: readonly string[]): string[] {
  const index = argv.findIndex((arg) => !arg.startsWith('-'));
  const name = argv[index];
  const command = COMMANDS.find((c) => typeof c.command === 'string' && c.command.split(' ')[0] === name);
  if (!command) return [...argv];
  const rest = argv.slice(index + 1);
  return [...argv.slice(0, index + 1), ...argsFromEnv(declaredOptions(command), rest, process.env), ...rest];
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildParser(withEnvironment(argv)).parseAsync();
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
