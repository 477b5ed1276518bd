/**
 * Options from the environment: `PLEXUS_<OPTION>` for each option the invoked command declares
 * (`--admin-port` ← PLEXUS_ADMIN_PORT), turned into command-line arguments unless the command
 * line already gives that option. Variables for options a command does not have are ignored,
 * so one environment can serve several commands (PLEXUS_NODE_NAME is for `agent`, and
 * `plexus config` still runs).
 */

export interface DeclaredOptions {
  /** Option names as declared (kebab-case), plus aliases per name. */
  readonly names: readonly string[];
  readonly aliases: Readonly<Record<string, readonly string[]>>;
}

export const ENV_PREFIX = 'PLEXUS_';
const BUILT_IN = new Set(['help', 'version']);

export function envVariableName(option: string): string {
  return `${ENV_PREFIX}${option.toUpperCase().replace(/-/g, '_')}`;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** True when `args` (before any `--`) set `name` or one of its aliases, in any spelling. */
function givenOnCommandLine(args: readonly string[], spellings: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    for (const spelling of spellings) {
      const dashes = spelling.length === 1 ? '-' : '--';
      if (arg === `${dashes}${spelling}` || arg.startsWith(`${dashes}${spelling}=`) || arg === `--no-${spelling}`) return true;
    }
  }
  return false;
}

/** `--option=value` arguments for the declared options set in `env` but not in `args`. */
export function argsFromEnv(declared: DeclaredOptions, args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const extra: string[] = [];
  for (const name of declared.names) {
    if (BUILT_IN.has(name)) continue;
    const value = env[envVariableName(name)];
    if (value === undefined) continue;
    const spellings = [name, camelCase(name), ...(declared.aliases[name] ?? [])];
    if (!givenOnCommandLine(args, spellings)) extra.push(`--${name}=${value}`);
  }
  return extra;
}
