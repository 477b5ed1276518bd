/** What a suite hands back, and how it is printed (pure). */

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** One goal (issues 7 and 23) and where the run put Plexus against it. */
export interface GoalCheck {
  readonly goal: string;
  readonly measured: string;
  /** Null when the run could not measure it. */
  readonly met: boolean | null;
}

export interface SuiteReport {
  readonly suite: string;
  /** How it was measured: pinning, commands, anything skipped. */
  readonly notes: readonly string[];
  readonly tables: readonly Table[];
  readonly goals: readonly GoalCheck[];
  /** Raw measurements, for --json. */
  readonly data: unknown;
}

/** A Markdown table (pipes), readable as plain text too. */
export function formatTable(table: Table): string {
  const widths = table.columns.map((column, i) => Math.max(column.length, ...table.rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    `**${table.title}**`,
    '',
    line(table.columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...table.rows.map(line),
  ].join('\n');
}

/** A number with `digits` decimals and thousands separators; `-` for none. */
export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A signed difference (`+0.12`), `-` for none. */
export function signed(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

export function verdict(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'NOT met';
}

export function goalsTable(goals: readonly GoalCheck[]): Table {
  return {
    title: 'Goals (issues 7 and 23)',
    columns: ['goal', 'measured', 'verdict'],
    rows: goals.map((g) => [g.goal, g.measured, verdict(g.met)]),
  };
}
