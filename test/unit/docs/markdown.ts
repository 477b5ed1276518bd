/**
 * The documentation as the docs checks read it: README.md and docs/*.md, with the little
 * Markdown structure they need (sections, tables, code).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/paths.js';

export interface Doc {
  /** Relative to the repository root, e.g. `docs/cli.md`. */
  readonly path: string;
  readonly lines: readonly string[];
}

export function readDoc(path: string): Doc {
  return { path, lines: readFileSync(join(REPO_ROOT, path), 'utf8').split('\n') };
}

/** README.md and every page under docs/. */
export function allDocs(): Doc[] {
  const pages = readdirSync(join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort();
  return [readDoc('README.md'), ...pages.map((name) => readDoc(`docs/${name}`))];
}

export interface TableRow {
  /** 1-based line number in the doc. */
  readonly line: number;
  readonly cells: readonly string[];
}

/** The cells of a Markdown table row (`\|` inside a cell is kept as `|`); null for other lines. */
export function tableCells(line: string): string[] | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|') || !trimmed.endsWith('|')) return null;
  return trimmed.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll('\\|', '|'));
}

/** The body rows of every table between lines `from` and `to` (1-based, exclusive of `to`). */
export function tableRows(doc: Doc, from = 1, to = doc.lines.length + 1): TableRow[] {
  const rows: TableRow[] = [];
  for (let i = from - 1; i < to - 1 && i < doc.lines.length; i++) {
    const cells = tableCells(doc.lines[i]!);
    if (!cells) continue;
    const next = doc.lines[i + 1] ?? '';
    const isHeader = /^\s*\|[\s:|-]+\|\s*$/.test(next);
    const isDivider = /^\s*\|[\s:|-]+\|\s*$/.test(doc.lines[i]!);
    if (!isHeader && !isDivider) rows.push({ line: i + 1, cells });
  }
  return rows;
}

/** The 1-based line range [start, end) of the section whose heading matches `heading`, or null. */
export function section(doc: Doc, heading: RegExp): { start: number; end: number } | null {
  const start = doc.lines.findIndex((line) => /^#{1,6} /.test(line) && heading.test(line));
  if (start < 0) return null;
  const level = /^#+/.exec(doc.lines[start]!)![0].length;
  let end = start + 1;
  while (end < doc.lines.length && !(new RegExp(`^#{1,${level}} `).test(doc.lines[end]!))) end++;
  return { start: start + 1, end: end + 1 };
}

/** Text without Markdown code backticks. */
export function plain(text: string): string {
  return text.replaceAll('`', '').replace(/\s+/g, ' ').trim();
}

export interface CodeLine {
  readonly line: number;
  readonly text: string;
}

/** Every piece of code in a doc: each line of a fenced block, and each inline code span. */
export function codeLines(doc: Doc): CodeLine[] {
  const out: CodeLine[] = [];
  let fenced = false;
  doc.lines.forEach((text, index) => {
    if (/^\s*```/.test(text)) {
      fenced = !fenced;
      return;
    }
    if (fenced) out.push({ line: index + 1, text });
    else for (const match of text.matchAll(/`([^`]+)`/g)) out.push({ line: index + 1, text: match[1]! });
  });
  return out;
}
