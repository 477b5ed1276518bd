/**
 * The generated part of docs/performance.md (pure): `npm run bench -- --write-doc` renders the
 * run (command, date, machine, load, every suite's notes and tables, the goals) and puts it
 * between two markers, so the doc's tables always come from one run and are regenerated with
 * one command. The text around the markers is written by hand and is left as it is.
 */
import { formatTable, goalsTable, type SuiteReport } from './report.js';

export const DOC_BEGIN = '<!-- bench:generated:begin (written by `npm run bench -- --write-doc`; edit outside the markers) -->';
export const DOC_END = '<!-- bench:generated:end -->';

/** Where and how the run was taken. */
export interface RunHeader {
  /** `npm run bench -- ...` as typed. */
  readonly command: string;
  readonly began: Date;
  readonly tookS: number;
  /** cores, CPU model, Node version. */
  readonly machine: string;
  /** 1-minute load average at the start and at the end. */
  readonly loadStart: number;
  readonly loadEnd: number;
}

/** The run as Markdown: the header lines, then per suite its tables and notes, then the goals. */
export function renderRun(header: RunHeader, reports: readonly SuiteReport[]): string {
  const out: string[] = [
    `command: \`${header.command}\``,
    '',
    `run: ${header.began.toISOString()}, took ${header.tookS.toFixed(0)} s; ${header.machine}; load average ${header.loadStart.toFixed(2)} at the start, ${header.loadEnd.toFixed(2)} at the end`,
  ];
  for (const report of reports) {
    out.push('', `#### ${report.suite}`, '');
    for (const table of report.tables) out.push(formatTable(table), '');
    for (const note of report.notes) out.push(`- ${note}`);
  }
  const goals = reports.flatMap((r) => r.goals);
  if (goals.length > 0) out.push('', formatTable(goalsTable(goals)));
  return out.join('\n');
}

interface Span {
  readonly begin: number;
  readonly end: number;
}

/** Where the generated text sits (between the markers); an Error saying what is wrong otherwise. */
function generatedSpan(doc: string): Span {
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < 0) throw new Error(`the doc has no generated section: it needs the lines ${DOC_BEGIN} and ${DOC_END}`);
  if (doc.indexOf(DOC_BEGIN, begin + 1) >= 0 || doc.indexOf(DOC_END, end + 1) >= 0) throw new Error('the doc has more than one generated section marker');
  if (end < begin) throw new Error('the doc\'s generated section ends before it begins');
  return { begin: begin + DOC_BEGIN.length, end };
}

/** The doc with `generated` between its markers (everything else unchanged). */
export function replaceGenerated(doc: string, generated: string): string {
  const span = generatedSpan(doc);
  return `${doc.slice(0, span.begin)}\n\n${generated.trim()}\n\n${doc.slice(span.end)}`;
}

/** The text between the markers. */
export function generatedText(doc: string): string {
  const span = generatedSpan(doc);
  return doc.slice(span.begin, span.end).trim();
}

/** A table's rows (header, separator, body) that have a different number of cells than the header. */
function raggedRows(lines: readonly string[]): string[] {
  const cells = (line: string): number => line.split('|').length;
  const width = cells(lines[0] as string);
  return lines.filter((line) => cells(line) !== width);
}

/**
 * What is wrong with the shape of the generated section (empty when nothing): it must start with
 * the command and the run line (date and load), hold at least one table, each with a header,
 * a separator and rows of the same width, and end with the goals table.
 */
export function generatedShapeProblems(doc: string): string[] {
  let text: string;
  try {
    text = generatedText(doc);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  const problems: string[] = [];
  const lines = text.split('\n');
  if (!/^command: `npm run bench[^`]*`$/.test(lines[0] ?? '')) problems.push(`the first line is not the run's command: ${lines[0] ?? '(nothing)'}`);
  if (!/^run: \d{4}-\d\d-\d\dT[\d:.]+Z, took \d+ s; .+; load average [\d.]+ at the start, [\d.]+ at the end$/.test(lines[2] ?? '')) {
    problems.push(`the third line is not the run's date, duration, machine and load: ${lines[2] ?? '(nothing)'}`);
  }
  const tables = text.split('\n\n').map((block) => block.split('\n')).filter((block) => block[0]?.startsWith('|'));
  if (tables.length === 0) problems.push('no table');
  for (const table of tables) {
    if (!/^\|(-+\|)+$/.test(table[1] ?? '')) problems.push(`a table without a separator line under its header: ${table[0]}`);
    for (const row of raggedRows(table)) problems.push(`a row of another width than its header ${table[0]}: ${row}`);
  }
  const last = tables[tables.length - 1];
  if (last && !last[0]?.startsWith('| goal ')) problems.push('the section does not end with the goals table');
  return problems;
}
