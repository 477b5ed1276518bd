/** What the `plexus` program declares, read from its yargs command modules (the docs checks' truth). */
import yargs, { type Argv } from 'yargs';
import { COMMANDS } from '../../../src/cli/main.js';

export interface ProgramOption {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly type: 'boolean' | 'number' | 'string' | 'array';
  readonly choices: readonly string[] | null;
  /** The default as the docs write it: `on`/`off`, a value, a description, `—` or `(required)`. */
  readonly documentedDefault: string;
  /** Whether documentedDefault is a value (written in backticks), not a description. */
  readonly literalDefault: boolean;
  /** The raw default (for prose such as "(default `8053`)"); undefined when there is none. */
  readonly defaultValue: unknown;
  readonly describe: string;
}

export interface ProgramCommand {
  readonly name: string;
  readonly options: readonly ProgramOption[];
}

/** yargs' introspection (present at runtime, missing from @types/yargs). */
interface Introspection {
  getOptions(): {
    key: Record<string, boolean>;
    alias: Record<string, string[]>;
    default: Record<string, unknown>;
    defaultDescription: Record<string, string>;
    choices: Record<string, string[]>;
    demandedOptions: Record<string, unknown>;
    boolean: string[];
    number: string[];
    array: string[];
  };
  getInternalMethods(): { getUsageInstance(): { getDescriptions(): Record<string, string | undefined> } };
}

const BUILT_IN = new Set(['help', 'version']);

function documentedDefault(name: string, o: ReturnType<Introspection['getOptions']>): string {
  if (name in o.demandedOptions) return '(required)';
  if (o.defaultDescription[name] !== undefined) return o.defaultDescription[name]!;
  const value = o.default[name];
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return '—';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

async function describeCommand(name: string, load: () => Promise<{ command?: string | readonly string[]; builder?: unknown }>): Promise<ProgramCommand> {
  const module = await load();
  const scratch = yargs([]);
  if (typeof module.builder === 'function') (module.builder as (y: Argv) => unknown)(scratch);
  const introspection = scratch as unknown as Introspection;
  const o = introspection.getOptions();
  const descriptions = introspection.getInternalMethods().getUsageInstance().getDescriptions();
  const usage = typeof module.command === 'string' ? module.command : module.command?.[0] ?? '';
  const positionals = new Set([...usage.matchAll(/[<[]([\w-]+)[\]>]/g)].map((m) => m[1]!));
  const aliasOf = new Set(Object.values(o.alias).flat());
  const options = Object.keys(o.key)
    .filter((key) => !BUILT_IN.has(key) && !positionals.has(key) && !aliasOf.has(key))
    .map((key): ProgramOption => ({
      name: key,
      aliases: o.alias[key] ?? [],
      type: o.array.includes(key) ? 'array' : o.boolean.includes(key) ? 'boolean' : o.number.includes(key) ? 'number' : 'string',
      choices: o.choices[key] ?? null,
      documentedDefault: documentedDefault(key, o),
      literalDefault: !(key in o.demandedOptions) && o.defaultDescription[key] === undefined && documentedDefault(key, o) !== '—',
      defaultValue: o.default[key],
      describe: (descriptions[key] ?? '').replace(/^__yargsString__:/, ''),
    }));
  return { name, options };
}

/** Every command `plexus` has, with its options (not --help / --version, not positionals). */
export async function programCommands(): Promise<ProgramCommand[]> {
  return Promise.all(COMMANDS.map(([name, load]) => describeCommand(name, load)));
}

/** How a docs table row spells an option: `--name ARG`, with the choices or a placeholder as ARG. */
export function optionSpelling(option: ProgramOption): string {
  if (option.type === 'boolean') return `--${option.name}`;
  const arg = option.choices ? option.choices.join('\\|') : option.type === 'number' ? 'N' : 'VALUE';
  return `--${option.name} ${arg}`;
}

/** A table row for an option, ready to paste into docs/cli.md. */
export function suggestedRow(option: ProgramOption): string {
  const aliases = option.aliases.map((a) => `, \`${a.length === 1 ? '-' : '--'}${a}\``).join('');
  const value = option.literalDefault ? `\`${option.documentedDefault}\`` : option.documentedDefault;
  return `| \`${optionSpelling(option)}\`${aliases} | ${value} | ${option.describe} |`;
}
