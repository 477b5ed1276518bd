/**
 * `plexus stat [ns/]svc|ns`: success rate, requests per second and latency percentiles per
 * Service (and per caller with --from, per backend for split Services), over a window, computed
 * from every agent's /metrics read twice (docs/cli.md#plexus-stat). No Prometheus needed.
 */
import { append } from '../../model/append.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { byService, bySource, deltas, rows, type GoldenRow, type SeriesDelta } from '../observe/golden.js';
import { latency, percent, rate, table } from '../observe/format.js';
import { agentAccess, observeOptions, seconds, type ObserveArgs } from '../observe/options.js';
import { scrapeAll, windowSeconds, type ScrapeRound } from '../observe/scrape.js';
import { describeTarget, inTarget, parseTarget } from '../observe/target.js';
import { CliError, EXIT } from '../errors.js';

interface StatArgs extends ObserveArgs {
  readonly target: string | undefined;
  readonly window: number;
  readonly from: boolean;
  readonly output: 'table' | 'json';
}

export interface StatReport {
  readonly target: string;
  readonly windowSeconds: number;
  readonly agents: number;
  readonly services: readonly GoldenRow[];
  /** Per caller → Service (with --from). */
  readonly sources: readonly GoldenRow[];
  /** Per backend of split Services (those with more than one). */
  readonly backends: readonly GoldenRow[];
  readonly unreachable: readonly string[];
}

function builder(yargs: Argv): Argv<StatArgs> {
  return observeOptions(yargs)
    .positional('target', { type: 'string', describe: 'A Service (namespace/name), a namespace, or nothing for every Service' })
    .option('window', { type: 'number', default: 10, describe: 'Seconds between the two reads of the agents\' metrics', coerce: seconds('window', false) })
    .option('from', { type: 'boolean', default: false, describe: 'One row per caller (namespace/serviceAccount, or unknown) and Service' })
    .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'Output format' })
    .example('$0 stat shop/web --admin http://127.0.0.1:9901', 'The demo\'s web Service, from the local agent')
    .example('$0 stat shop --from', 'Every Service of namespace shop, per caller, in the cluster') as unknown as Argv<StatArgs>;
}

/** Builds the report from two rounds of scrapes. */
export function statReport(before: ScrapeRound, after: ScrapeRound, targetText: string | undefined): StatReport {
  const series = deltas(before.scrapes, after.scrapes);
  const target = parseTarget(targetText, new Set(series.map((s) => s.labels.destination_namespace ?? '')));
  const chosen = series.filter((s) => inTarget(target, s.labels.destination_namespace, s.labels.destination_service));
  const window = windowSeconds(before, after);
  return {
    target: describeTarget(target),
    windowSeconds: window,
    agents: after.scrapes.length,
    services: rows(chosen, window, byService),
    sources: rows(chosen, window, (labels) => `${bySource(labels)} → ${byService(labels)}`),
    backends: splitBackends(chosen, window),
    unreachable: [...new Set([...before.failures, ...after.failures])],
  };
}

function splitBackends(series: readonly SeriesDelta[], window: number): GoldenRow[] {
  const backendsOf = new Map<string, Set<string>>();
  for (const s of series) {
    if (!s.labels.destination_backend) continue;
    const service = byService(s.labels);
    backendsOf.set(service, (backendsOf.get(service) ?? new Set()).add(s.labels.destination_backend));
  }
  const split = new Set([...backendsOf].filter(([, backends]) => backends.size > 1).map(([service]) => service));
  return rows(series, window, (labels) => (split.has(byService(labels)) && labels.destination_backend ? `${byService(labels)} → ${labels.destination_backend}` : null));
}

function goldenTable(first: string, list: readonly GoldenRow[], shareOf?: (row: GoldenRow) => string): string[] {
  const header = [first, 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'REQUESTS', ...(shareOf ? ['SHARE'] : [])];
  return table([header, ...list.map((row) => [
    row.key, percent(row.successRate), rate(row.rps), latency(row.p50), latency(row.p95), latency(row.p99), String(row.requests),
    ...(shareOf ? [shareOf(row)] : []),
  ])]);
}

export function renderStat(report: StatReport, from: boolean): string[] {
  const lines = [`${report.target}: last ${report.windowSeconds.toFixed(1)} s, ${report.agents} agent${report.agents === 1 ? '' : 's'}`];
  for (const failure of report.unreachable) lines.push(`warning: ${failure}`);
  if (report.services.length === 0) return [...lines, `no requests to ${report.target} in the window`];
  lines.push('');
  append(lines, from ? goldenTable('FROM → SERVICE', report.sources) : goldenTable('SERVICE', report.services));
  if (report.backends.length > 0) {
    const totals = new Map(report.services.map((row) => [row.key, row.requests]));
    const share = (row: GoldenRow): string => percent(row.requests / (totals.get(row.key.split(' → ')[0] ?? '') || 1));
    lines.push('');
    append(lines, goldenTable('SPLIT → BACKEND', report.backends, share));
  }
  return lines;
}

async function handler(args: ArgumentsCamelCase<StatArgs>): Promise<void> {
  const access = agentAccess(args);
  const agents = await access.agents().catch((error: unknown) => {
    throw new CliError(`cannot list the agents: ${error instanceof Error ? error.message : String(error)}`, EXIT.FAILURE);
  });
  if (agents.length === 0) throw new CliError(`no ready agent in ${access.description}`, EXIT.FAILURE);
  const before = await scrapeAll(access, agents);
  if (before.scrapes.length === 0) throw new CliError(`could not read any agent's metrics:\n  ${before.failures.join('\n  ')}`, EXIT.FAILURE);
  await new Promise((resolve) => setTimeout(resolve, args.window * 1000));
  const after = await scrapeAll(access, agents);
  let report: StatReport;
  try {
    report = statReport(before, after, args.target);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT.FAILURE);
  }
  console.log(args.output === 'json' ? JSON.stringify(report, null, 2) : renderStat(report, args.from).join('\n'));
}

export const statCommand: CommandModule<object, StatArgs> = {
  command: 'stat [target]',
  describe: 'Success rate, requests per second and latency per Service (and per caller), from the agents\' metrics',
  builder,
  handler,
};

