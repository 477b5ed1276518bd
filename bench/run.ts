/**
 * `npm run bench`: runs the proxy, scale and convergence suites and prints one summary.
 *
 *   node dist/bench/run.js [--suite proxy|scale|convergence]... [--duration S] [--rounds N]
 *                          [--sizes 1000,10000] [--changes 50] [--quiet-wait S] [--json FILE] [--no-install]
 *
 * Defaults are short (the whole run takes under 3 minutes on 2 cores); use --duration 5
 * --rounds 3 for numbers worth publishing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { coreLayout, installCleanup, pinSelf, stopAll } from './lib/processes.js';
import { formatTable, goalsTable, type SuiteReport } from './lib/report.js';
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
}

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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench -- [--suite proxy|scale|convergence]... [--duration S] [--rounds N] [--sizes 1000,10000] [--changes 50] [--quiet-wait S] [--json FILE] [--no-install]\n');
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
  };
}

async function main(): Promise<void> {
  const options = settings(process.argv.slice(2));
  installCleanup();
  const layout = coreLayout();
  pinSelf(layout.loadCpu);
  const workDir = mkdtempSync(join(tmpdir(), 'plexus-bench-'));
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const tools = ensureTools(options.install && options.suites.includes('proxy'));
  const began = new Date();
  process.stdout.write(`plexus bench: ${options.suites.join(', ')}; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)}\n`);
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

  const out: string[] = [];
  for (const report of reports) {
    out.push('', `## ${report.suite}`, '');
    for (const table of report.tables) out.push(formatTable(table), '');
    for (const note of report.notes) out.push(`- ${note}`);
  }
  const goals = reports.flatMap((r) => r.goals);
  if (goals.length > 0) out.push('', formatTable(goalsTable(goals)));
  out.push('', `command: npm run bench -- ${process.argv.slice(2).join(' ')}`.trimEnd(), `started ${began.toISOString()}, took ${((Date.now() - began.getTime()) / 1000).toFixed(0)} s, load average at the end ${loadavg()[0]?.toFixed(2)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ began: began.toISOString(), options, reports }, null, 2)}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
