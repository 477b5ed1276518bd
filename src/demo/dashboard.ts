/**
 * The demo's live view: per target, requests sent and which backend answered, plus a few totals
 * read from the agent's /metrics. Rendering is pure; `LiveView` redraws in place on a terminal
 * and prints plain periodic lines otherwise.
 */
import type { Writable } from 'node:stream';
import type { TargetStats } from './traffic.js';

/** The metric totals the dashboard shows (summed over all label sets). */
export const DASHBOARD_METRICS = [
  'plexus_requests_total',
  'plexus_tcp_connections_total',
  'plexus_udp_flows_total',
  'plexus_config_generation',
] as const;

/** Sums each named metric's samples in a Prometheus text exposition. */
export function metricTotals(text: string, names: readonly string[]): Map<string, number> {
  const totals = new Map<string, number>(names.map((name) => [name, 0]));
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, value] = match;
    if (name !== undefined && totals.has(name)) totals.set(name, (totals.get(name) ?? 0) + Number(value));
  }
  return totals;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '-';
}

/**
 * Who answered an HTTP target: the share of the latest answers (the sliding window, so a weight
 * change shows within seconds) and the count since the start.
 */
function answerLines(s: TargetStats): string[] {
  const recent = s.recent.counts();
  const totals = new Map<string, number>([...s.byBackend, ...[...s.byStatus].map(([status, n]) => [`HTTP ${status}`, n] as const)]);
  const keys = [...new Set([...totals.keys(), ...recent.keys()])].sort((a, b) => (a < b ? -1 : 1));
  const lines = keys.length > 0 ? [`    share of the last ${s.recent.size} answers (total since the start):`] : [];
  for (const key of keys) lines.push(`    ${key}: ${percent(recent.get(key) ?? 0, s.recent.size)} (${totals.get(key) ?? 0})`);
  return lines;
}

export function renderDashboard(stats: readonly TargetStats[], metrics: ReadonlyMap<string, number> | null, elapsedSeconds: number): string[] {
  const lines = [`plexus demo: ${Math.floor(elapsedSeconds)}s (Ctrl-C to stop)`];
  for (const s of stats) {
    const { target } = s;
    const from = target.unknownCaller ? ' from an unknown caller' : target.sourcePod ? ` from ${target.sourcePod}` : '';
    lines.push(`  ${target.host}:${target.port} (${target.trafficType}${from}): ${s.sent} sent, ${s.answered} answered, ${s.failed} failed`);
    if (target.trafficType !== 'http') continue;
    for (const line of answerLines(s)) lines.push(line);
  }
  if (metrics) {
    // Two metrics per line keeps each line short enough for a terminal.
    const samples = [...metrics.entries()].map(([name, value]) => `${name} ${value}`);
    lines.push('  agent /metrics:');
    for (let i = 0; i < samples.length; i += 2) lines.push(`    ${samples.slice(i, i + 2).join('   ')}`);
  }
  return lines;
}

/** Redraws a block of lines in place on a TTY; elsewhere prints the block every `plainEvery` draws. */
export class LiveView {
  #drawn = 0;
  #draws = 0;

  constructor(private readonly out: Writable & { isTTY?: boolean; columns?: number }, private readonly plainEvery = 5) {}

  draw(lines: readonly string[]): void {
    if (this.out.isTTY) {
      // A wrapped line would break the cursor-up count: cut lines to the terminal width.
      const width = Math.max(20, (this.out.columns || 100) - 1);
      const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
      this.out.write(`${up}${lines.map((line) => `\x1b[2K${line.slice(0, width)}`).join('\n')}\n`);
      this.#drawn = lines.length;
      return;
    }
    if (this.#draws++ % this.plainEvery === 0) this.out.write(`${lines.join('\n')}\n`);
  }

  /** The last state, always printed in full (after the live block on a TTY). */
  final(lines: readonly string[]): void {
    if (this.out.isTTY) this.draw(lines);
    else this.out.write(`${lines.join('\n')}\n`);
  }
}
