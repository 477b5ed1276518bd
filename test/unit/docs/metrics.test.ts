/**
 * The docs check for metrics: every metric the program declares (a `name: 'plexus_…'` given to
 * prom-client anywhere under src/) has a row in a docs table with its type, and every
 * `plexus_…` name the docs mention (tables, prose, PromQL) is one the program declares.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../helpers/paths.js';
import { allDocs, plain, tableRows } from './markdown.js';

interface DeclaredMetric {
  readonly name: string;
  /** counter, gauge, histogram or summary: the prom-client class constructed with the name. */
  readonly type: string;
  readonly file: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

/** Every metric declared in src/: the name, and the type of the nearest `new <Metric>(` before it. */
function declaredMetrics(): DeclaredMetric[] {
  const metrics: DeclaredMetric[] = [];
  for (const path of sourceFiles(join(REPO_ROOT, 'src'))) {
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(/\bname:\s*'(plexus_[a-z0-9_]+)'/g)) {
      const before = text.slice(Math.max(0, match.index - 400), match.index);
      const constructed = [...before.matchAll(/new (\w*?)(Counter|Gauge|Histogram|Summary)\b/g)].pop();
      metrics.push({ name: match[1]!, type: constructed ? constructed[2]!.toLowerCase() : 'unknown', file: relative(REPO_ROOT, path) });
    }
  }
  return metrics;
}

describe('docs check: metrics (the docs against the metrics the program declares)', () => {
  const declared = declaredMetrics();

  it('finds the metrics in the source', () => {
    expect(declared.map((m) => m.name)).to.include('plexus_requests_total');
  });

  it('has a docs table row, with the right type, for every metric the program declares', () => {
    const rows = new Map<string, { path: string; line: number; type: string }>();
    for (const doc of allDocs()) {
      for (const row of tableRows(doc)) {
        const name = /^`(plexus_[a-z0-9_]+)`$/.exec(row.cells[0] ?? '')?.[1];
        if (name) rows.set(name, { path: doc.path, line: row.line, type: plain(row.cells[1] ?? '') });
      }
    }
    const problems: string[] = [];
    for (const metric of declared) {
      const row = rows.get(metric.name);
      if (!row) problems.push(`${metric.name} (${metric.type}, ${metric.file}) has no row in docs/metrics.md: add\n| \`${metric.name}\` | ${metric.type} | <labels> | <what it counts> |`);
      else if (row.type !== metric.type) problems.push(`${row.path}:${row.line}: ${metric.name} is a ${metric.type} (${metric.file}), the docs say ${row.type}`);
    }
    if (problems.length > 0) expect.fail(`metrics without a (correct) docs row:\n\n${problems.join('\n\n')}\n`);
  });

  it('mentions only metrics the program declares', () => {
    const names = new Set(declared.map((m) => m.name));
    const histograms = declared.filter((m) => m.type === 'histogram' || m.type === 'summary').map((m) => m.name);
    const known = (name: string): boolean => names.has(name) || histograms.some((h) => ['_bucket', '_sum', '_count'].some((s) => name === `${h}${s}`));
    const problems: string[] = [];
    for (const doc of allDocs()) {
      doc.lines.forEach((text, index) => {
        for (const match of text.matchAll(/\bplexus_[a-z0-9_]*[a-z0-9]/g)) {
          if (!known(match[0])) problems.push(`${doc.path}:${index + 1}: ${match[0]} is not a metric the program declares (renamed or removed?)`);
        }
      });
    }
    if (problems.length > 0) expect.fail(`the docs name metrics the program does not have:\n\n${problems.join('\n')}\n`);
  });
});
