/**
 * `plexus` command line: parses argv with yargs and runs one command; resolves to the exit code.
 * Commands live one per module in ./commands and are registered from COMMANDS below.
 * Every option also reads the environment variable PLEXUS_<OPTION> (`--admin-port` ←
 * PLEXUS_ADMIN_PORT; see env-args.ts); the command line wins over the environment.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { argsFromEnv, type DeclaredOptions } from './env-args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { packageVersion } from './package-root.js';

// Each command declares its own options, so the list holds command modules of any argv type.
type AnyCommand = CommandModule<object, any>;

/**
 * Add a command here (one line) to make it available. Each module is imported only when its
 * command runs: prepare/check/cleanup pull in @kubernetes/client-node (~90 MB RSS), which
 * `plexus agent --manifests` and `plexus config` must not pay for.
 */
export const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<AnyCommand>]> = [
  ['agent', async () => (await import('./commands/agent.js')).agentCommand],
  ['config', async () => (await import('./commands/config.js')).configCommand],
  ['demo', async () => (await import('./commands/demo.js')).demoCommand],
  ['prepare', async () => (await import('./commands/prepare.js')).prepareCommand],
  ['cleanup', async () => (await import('./commands/cleanup.js')).cleanupCommand],
  ['check', async () => (await import('./commands/check.js')).checkCommand],
  ['ca', async () => (await import('./commands/ca.js')).caCommand],
  ['stat', async () => (await import('./commands/stat.js')).statCommand],
  ['tap', async () => (await import('./commands/tap.js')).tapCommand],
  ['top', async () => (await import('./commands/top.js')).topCommand],
  ['dashboard', async () => (await import('./commands/dashboard.js')).dashboardCommand],
];

/** The invoked command's name: the first argument that is not an option (there are no global options). */
function invokedName(argv: readonly string[]): string | undefined {
  return argv.find((arg) => !arg.startsWith('-'));
}

/**
 * The command modules the parser needs: only the invoked one when argv names a known command;
 * every one otherwise (top-level --help lists them all, an unknown name gets suggestions).
 */
async function loadCommands(argv: readonly string[]): Promise<AnyCommand[]> {
  const name = invokedName(argv);
  const invoked = COMMANDS.find(([n]) => n === name);
  return Promise.all((invoked ? [invoked] : COMMANDS).map(([, load]) => load()));
}

function buildParser(argv: readonly string[], commands: readonly AnyCommand[]): Argv {
  let parser: Argv = yargs([...argv])
    .scriptName('plexus')
    .usage('$0 <command> [options]\n\nPlexus: a per-node service mesh with SMI routing and authorization.')
    .strict()
    .demandCommand(1, `name a command: ${COMMANDS.map(([name]) => name).join(', ')}`)
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
  for (const command of commands) parser = parser.command(command);
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
function withEnvironment(argv: readonly string[], commands: readonly AnyCommand[]): string[] {
  const index = argv.findIndex((arg) => !arg.startsWith('-'));
  const name = argv[index];
  const command = commands.find((c) => typeof c.command === 'string' && c.command.split(' ')[0] === name);
  if (!command) return [...argv];
  const rest = argv.slice(index + 1);
  return [...argv.slice(0, index + 1), ...argsFromEnv(declaredOptions(command), rest, process.env), ...rest];
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const commands = await loadCommands(argv);
    await buildParser(withEnvironment(argv, commands), commands).parseAsync();
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
