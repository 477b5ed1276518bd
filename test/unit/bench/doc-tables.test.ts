/**
 * The generated section of docs/performance.md: `npm run bench -- --write-doc` renders a run
 * between two markers and leaves the rest of the doc alone, and the section in the repository
 * has the shape the benchmark writes (command, date and load, whole tables, the goals last).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOC_BEGIN, DOC_END, generatedShapeProblems, generatedText, renderRun, replaceGenerated } from '../../../bench/lib/doc-tables.js';
import type { SuiteReport } from '../../../bench/lib/report.js';
import { PACKAGE_ROOT } from '../../../src/cli/package-root.js';

const header = {
  command: 'npm run bench -- --suite scale --write-doc',
  began: new Date('2026-12-07T20:15:00.000Z'),
  tookS: 312.4,
  machine: '2 cores (AMD EPYC), Node v20.20.2',
  loadStart: 0.41,
  loadEnd: 1.07,
};

const report: SuiteReport = {
  suite: 'scale',
  notes: ['pinning: agent on cpu1'],
  tables: [{ title: 'Scale', columns: ['Services', 'RSS MB'], rows: [['1,000', '119.2'], ['10,000', '291.0']] }],
  goals: [{ goal: 'agent RSS <= 150 MB at 10,000 Services', measured: '291.0 MB', met: false }],
  data: null,
};

const doc = ['# Performance', '', 'by hand, before', '', DOC_BEGIN, 'old tables', DOC_END, '', 'by hand, after', ''].join('\n');

describe('bench: the generated section of docs/performance.md', () => {
  it('writes the run between the markers and keeps the text around them', () => {
    const written = replaceGenerated(doc, renderRun(header, [report]));
    expect(written.startsWith(`# Performance\n\nby hand, before\n\n${DOC_BEGIN}\n`)).to.equal(true);
    expect(written.endsWith(`${DOC_END}\n\nby hand, after\n`)).to.equal(true);
    expect(written).not.to.include('old tables');
    const text = generatedText(written);
    expect(text.split('\n')[0]).to.equal('command: `npm run bench -- --suite scale --write-doc`');
    expect(text).to.include('run: 2026-12-07T20:15:00.000Z, took 312 s; 2 cores (AMD EPYC), Node v20.20.2; load average 0.41 at the start, 1.07 at the end');
    expect(text).to.include('| 10,000   | 291.0  |');
    expect(text).to.include('| agent RSS <= 150 MB at 10,000 Services | 291.0 MB | NOT met |');
    expect(generatedShapeProblems(written)).to.deep.equal([]);
  });

  it('gives the same doc when the same run is written twice', () => {
    const once = replaceGenerated(doc, renderRun(header, [report]));
    expect(replaceGenerated(once, renderRun(header, [report]))).to.equal(once);
  });

  it('refuses a doc without both markers, or with two sections', () => {
    expect(() => replaceGenerated('# Performance\n', 'x')).to.throw(/no generated section/);
    expect(() => replaceGenerated(`${DOC_BEGIN}\n`, 'x')).to.throw(/no generated section/);
    expect(() => replaceGenerated(`${doc}\n${doc}`, 'x')).to.throw(/more than one/);
    expect(() => replaceGenerated(`${DOC_END}\n${DOC_BEGIN}\n`, 'x')).to.throw(/ends before it begins/);
  });

  it('finds a hand-edited section that is not what the benchmark writes', () => {
    expect(generatedShapeProblems(doc)).to.include.members(['the first line is not the run\'s command: old tables', 'no table']);
    const ragged = replaceGenerated(doc, renderRun(header, [report])).replace('| 10,000   | 291.0  |', '| 10,000   | 291.0  | 12 |');
    expect(generatedShapeProblems(ragged).join('\n')).to.match(/a row of another width than its header/);
  });

  it('has the generated shape in docs/performance.md', () => {
    expect(generatedShapeProblems(readFileSync(join(PACKAGE_ROOT, 'docs', 'performance.md'), 'utf8'))).to.deep.equal([]);
  });
});
