/**
 * The docs check for the command line: docs/cli.md has a section per command with a row per
 * option and the program's default, and every flag, default and PLEXUS_* variable the docs
 * mention exists in the program as written. The truth is the yargs definitions themselves, so
 * a new command or option that is not documented fails here, with the row to add.
 */
import { expect } from 'chai';
import { envVariableName } from '../../../src/cli/env-args.js';
import { allDocs, codeLines, plain, readDoc, section, tableRows, type Doc } from './markdown.js';
import { programCommands, suggestedRow, type ProgramCommand, type ProgramOption } from './cli-program.js';

const CLI_DOC = 'docs/cli.md';
/** Pages whose bare `--flag` spans belong to another program (`npm run bench -- --suite …`). */
const OTHER_PROGRAMS_FLAGS = new Set(['docs/performance.md']);

/** A docs default cell as the program writes it: backticks, a trailing "(remark)" and dashes normalised. */
function documentedDefaultCell(cell: string): string {
  const text = plain(cell);
  if (text === '(required)') return text;
  if (/^\(.*\)$/.test(text) || text === '' || text === '-' || text === '—') return '—';
  return text.replace(/\s*\([^()]*\)$/, '');
}

function optionNamed(command: ProgramCommand, flag: string): ProgramOption | undefined {
  return command.options.find((o) => o.name === flag || o.aliases.includes(flag) || (o.type === 'boolean' && flag === `no-${o.name}`));
}

function fail(problems: readonly string[]): void {
  if (problems.length > 0) expect.fail(`${problems.length} place${problems.length === 1 ? '' : 's'} where the docs and the program disagree:\n\n${problems.join('\n\n')}\n`);
}

/** Problems with the options table of one command's section in docs/cli.md. */
function tableProblems(doc: Doc, command: ProgramCommand): string[] {
  const where = section(doc, new RegExp(`^#+ \`plexus ${command.name}\``));
  if (!where) {
    return [`${doc.path} has no section for \`plexus ${command.name}\`. Add:\n\n## \`plexus ${command.name}\`\n\n| option | default | |\n|---|---|---|\n${command.options.map(suggestedRow).join('\n')}`];
  }
  const problems: string[] = [];
  const documented = new Set<string>();
  for (const row of tableRows(doc, where.start, where.end)) {
    const flags = [...(row.cells[0] ?? '').matchAll(/(?<![\w-])--?([a-z0-9][a-z0-9-]*)/g)].map((m) => m[1]!);
    if (!(row.cells[0] ?? '').trimStart().startsWith('`-') || flags.length === 0) continue;
    const options = new Set<ProgramOption>();
    for (const flag of flags) {
      const option = optionNamed(command, flag);
      if (option) options.add(option);
      else problems.push(`${doc.path}:${row.line}: \`plexus ${command.name}\` has no option --${flag}: remove it from the row or fix its name`);
    }
    if (options.size > 1) problems.push(`${doc.path}:${row.line}: one option per row, please (${[...options].map((o) => `--${o.name}`).join(', ')})`);
    for (const option of options) {
      documented.add(option.name);
      const shown = documentedDefaultCell(row.cells[1] ?? '');
      if (shown !== plain(option.documentedDefault)) {
        problems.push(`${doc.path}:${row.line}: --${option.name} of \`plexus ${command.name}\` defaults to "${option.documentedDefault}" but the docs say "${shown}": fix the default column (or the option's default / defaultDescription)`);
      }
    }
  }
  for (const option of command.options) {
    if (!documented.has(option.name)) problems.push(`${doc.path}: section \`plexus ${command.name}\` has no row for --${option.name}. Add:\n${suggestedRow(option)}`);
  }
  return problems;
}

/** `plexus <command> --flag …` written anywhere in the docs' code: the command and each flag exist. */
function commandLineProblems(doc: Doc, commands: readonly ProgramCommand[]): string[] {
  const problems: string[] = [];
  for (const code of codeLines(doc)) {
    for (const match of code.text.matchAll(/(?:^|[\s;&|(])(?:\$ |npx )?plexus ([a-z][a-z-]*)((?:\s+(?!&&|\|\||[|;#>])\S+)*)/g)) {
      const command = commands.find((c) => c.name === match[1]);
      const flags = [...(match[2] ?? '').matchAll(/(?:^|[\s[])--([a-z0-9][a-z0-9-]*)/g)].map((m) => m[1]!);
      if (!command) {
        if (flags.length > 0) problems.push(`${doc.path}:${code.line}: \`plexus ${match[1]}\` is not a command (${commands.map((c) => c.name).join(', ')})`);
        continue;
      }
      for (const flag of flags) {
        if (flag === 'help' || flag === 'version' || optionNamed(command, flag)) continue;
        problems.push(`${doc.path}:${code.line}: \`plexus ${command.name}\` has no option --${flag} (in: ${code.text.trim()})`);
      }
    }
  }
  return problems;
}

/** A lone `--flag` span in prose names an option of some command. */
function bareFlagProblems(doc: Doc, commands: readonly ProgramCommand[]): string[] {
  if (OTHER_PROGRAMS_FLAGS.has(doc.path)) return [];
  const problems: string[] = [];
  for (const code of codeLines(doc)) {
    const match = /^--([a-z0-9][a-z0-9-]*)(?:[ =]\S*)?$/.exec(code.text.trim());
    if (match && !commands.some((c) => optionNamed(c, match[1]!))) {
      problems.push(`${doc.path}:${code.line}: no command has the option --${match[1]}: fix the name or remove it`);
    }
  }
  return problems;
}

/** "`--flag …` (default `X`" in prose gives the program's default. */
function proseDefaultProblems(doc: Doc, commands: readonly ProgramCommand[]): string[] {
  const problems: string[] = [];
  doc.lines.forEach((text, index) => {
    for (const match of text.matchAll(/(?<!`:)`--([a-z0-9-]+)[^`]*`[^`(]{0,40}\(default `([^`]+)`/g)) {
      const options = commands.flatMap((c) => c.options.filter((o) => o.name === match[1]));
      const said = match[2]!;
      const agrees = options.some((o) => String(o.defaultValue) === said || plain(o.documentedDefault) === said);
      if (options.length > 0 && !agrees) {
        problems.push(`${doc.path}:${index + 1}: says --${match[1]} defaults to ${said}; the program's default is ${[...new Set(options.map((o) => o.documentedDefault))].join(' / ')}`);
      }
    }
  });
  return problems;
}

/** Every PLEXUS_* variable the docs name is read by some option. */
function environmentProblems(doc: Doc, commands: readonly ProgramCommand[]): string[] {
  const known = new Set(commands.flatMap((c) => c.options.map((o) => envVariableName(o.name))));
  const problems: string[] = [];
  doc.lines.forEach((text, index) => {
    for (const match of text.matchAll(/\bPLEXUS_[A-Z0-9_]*[A-Z0-9]\b/g)) {
      if (!known.has(match[0])) problems.push(`${doc.path}:${index + 1}: ${match[0]} matches no option of any command`);
    }
  });
  return problems;
}

describe('docs check: the command line (docs against the yargs definitions)', () => {
  let commands: ProgramCommand[];
  before(async function () {
    this.timeout(60_000); // loads every command module, the Kubernetes client among them
    commands = await programCommands();
  });

  it('docs/cli.md has a section per command, a row per option, each with the program\'s default', () => {
    const doc = readDoc(CLI_DOC);
    fail(commands.flatMap((command) => tableProblems(doc, command)));
  });

  it('every `plexus <command> --flag` in the docs\' code names a command and options it has', () => {
    fail(allDocs().flatMap((doc) => commandLineProblems(doc, commands)));
  });

  it('every lone `--flag` in the docs is an option of some command', () => {
    fail(allDocs().flatMap((doc) => bareFlagProblems(doc, commands)));
  });

  it('defaults given in prose ("`--flag` (default `X`)") are the program\'s', () => {
    fail(allDocs().flatMap((doc) => proseDefaultProblems(doc, commands)));
  });

  it('every PLEXUS_* variable in the docs is one an option reads', () => {
    fail(allDocs().flatMap((doc) => environmentProblems(doc, commands)));
  });
});
