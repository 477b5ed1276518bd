/**
 * `npm run bench`: runs the proxy, scale and convergence suites and prints one summary.
 *
 *   node dist/bench/run.js [--suite proxy|scale|convergence]... [--duration S] [--rounds N]
 *                          [--sizes 1000,10000] [--changes 50] [--quiet-wait S] [--json FILE] [--no-install]
 *                          [--write-doc]
 *
 * --write-doc puts the run's tables into docs/performance.md (between its generated-section
 * markers), with the command, date and load.
 *
 * Defaults are short (the whole run takes under 3 minutes on 2 cores); use --duration 5
 * --rounds 3 for numbers worth publishing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { coreLayout, installCleanup, pinSelf, stopAll } from './lib/processes.js';
import { PACKAGE_ROOT } from '../src/cli/package-root.js';
import { generatedText, renderRun, replaceGenerated } from './lib/doc-tables.js';
import { type SuiteReport } from './lib/report.js';
import { ensureTools } from './lib/tools.js';
import { runConvergenceSuite } from './suites/convergence.js';
import { runProxySuite } from './suites/proxy.js';
import { runScaleSuite } from './suites/scale.js';

const SUITES = ['proxy', 'scale', 'convergence'] as const;
type Suite = typeof SUITES[number];

interface Settings {
  readonly suites: readonly Suite[];
  readonly durationS: number;
  readonly rounds: number;
  readonly sizes: readonly number[];
  readonly changes: number;
  readonly quietWaitS: number;
  readonly json: string | null;
  readonly install: boolean;
  readonly writeDoc: boolean;
}

/** The doc whose generated section --write-doc replaces. */
const PERFORMANCE_DOC = join(PACKAGE_ROOT, 'docs', 'performance.md');

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: "${text}" is not a positive number`);
  return value;
}

function settings(argv: readonly string[]): Settings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      suite: { type: 'string', multiple: true },
      duration: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '1' },
      sizes: { type: 'string', default: '1000,10000' },
      changes: { type: 'string', default: '50' },
      'quiet-wait': { type: 'string', default: '0' },
      json: { type: 'string' },
      'no-install': { type: 'boolean', default: false },
      'write-doc': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench -- [--suite proxy|scale|convergence]... [--duration S] [--rounds N] [--sizes 1000,10000] [--changes 50] [--quiet-wait S] [--json FILE] [--no-install] [--write-doc]\n');
    process.exit(0);
  }
  const suites = (values.suite ?? [...SUITES]).flatMap((s) => s.split(','));
  for (const suite of suites) if (!(SUITES as readonly string[]).includes(suite)) throw new Error(`--suite: "${suite}" is not one of ${SUITES.join(', ')}`);
  return {
    suites: suites as Suite[],
    durationS: positive('duration', values.duration),
    rounds: Math.round(positive('rounds', values.rounds)),
    sizes: values.sizes.split(',').map((s) => Math.round(positive('sizes', s))),
    changes: Math.round(positive('changes', values.changes)),
    quietWaitS: Number(values['quiet-wait']) || 0,
    json: values.json ?? null,
    install: !values['no-install'],
    writeDoc: values['write-doc'],
  };
}

async function main(): Promise<void> {
  const options = settings(process.argv.slice(2));
  installCleanup();
  const layout = coreLayout();
  pinSelf(layout.loadCpu);
  const workDir = mkdtempSync(join(tmpdir(), 'plexus-bench-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  // Refuse before a long run, not after it, when the doc cannot take the tables.
  if (options.writeDoc) generatedText(readFileSync(PERFORMANCE_DOC, 'utf8'));
  const tools = ensureTools(options.install && options.suites.includes('proxy'));
  const began = new Date();
  const loadStart = loadavg()[0] ?? 0;
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`;
  process.stdout.write(`plexus bench: ${options.suites.join(', ')}; ${machine}, load average ${loadStart.toFixed(2)}\n`);
  for (const note of tools.notes) process.stdout.write(`tools: ${note}\n`);

  const reports: SuiteReport[] = [];
  try {
    for (const suite of options.suites) {
      process.stdout.write(`running ${suite}...\n`);
      const dir = join(workDir, suite);
      if (suite === 'proxy') reports.push(await runProxySuite({ durationS: options.durationS, rounds: options.rounds, layout, tools, workDir: dir, quietWaitS: options.quietWaitS }));
      if (suite === 'scale') reports.push(await runScaleSuite({ sizes: options.sizes, layout, workDir: dir }));
      if (suite === 'convergence') reports.push(await runConvergenceSuite({ changes: options.changes, layout, workDir: dir }));
    }
  } finally {
    await stopAll();
  }

  const generated = renderRun({
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    began, tookS: (Date.now() - began.getTime()) / 1000, machine, loadStart, loadEnd: loadavg()[0] ?? 0,
  }, reports);
  process.stdout.write(`\n${generated}\n`);
  if (options.writeDoc) {
    writeFileSync(PERFORMANCE_DOC, replaceGenerated(readFileSync(PERFORMANCE_DOC, 'utf8'), generated));
    process.stdout.write(`wrote the tables into ${PERFORMANCE_DOC}\n`);
  }
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ began: began.toISOString(), options, reports }, null, 2)}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
