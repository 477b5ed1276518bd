/** The process's own metrics: every one has its value on the first scrape, and the CPU counters add up. */
import { expect } from 'chai';
import { registerProcessMetrics } from '../../../src/node-agent/telemetry/process-metrics.js';
import { Registry } from '../../../src/node-agent/telemetry/prom.js';

function valueOf(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (line === undefined) throw new Error(`${name} not in the scrape:\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('process metrics', () => {
  it('gives every metric its value on the first scrape', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const text = await registry.metrics();
    for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'process_start_time_seconds']) {
      expect(valueOf(text, name), name).to.be.greaterThan(0);
    }
    expect(valueOf(text, 'nodejs_eventloop_lag_seconds')).to.be.at.least(0);
    expect(valueOf(text, 'nodejs_version_info')).to.equal(1);
    expect(text).to.include(`nodejs_version_info{version="${process.version}"`);
    // This test runs on Linux (procfs): the descriptor counts are there.
    expect(valueOf(text, 'process_open_fds')).to.be.greaterThan(0);
    expect(valueOf(text, 'process_max_fds')).to.be.at.least(valueOf(text, 'process_open_fds'));
  });

  it('counts CPU seconds as user + system, growing from scrape to scrape', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const first = await registry.metrics();
    let spin = 0;
    for (let i = 0; i < 2e6; i++) spin += i % 7;
    expect(spin).to.be.greaterThan(0);
    const second = await registry.metrics();
    const total = valueOf(second, 'process_cpu_seconds_total');
    expect(total).to.be.greaterThan(valueOf(first, 'process_cpu_seconds_total'));
    expect(total).to.be.closeTo(valueOf(second, 'process_cpu_user_seconds_total') + valueOf(second, 'process_cpu_system_seconds_total'), 1e-9);
  });

  it('exports nothing else: no event-loop histogram timer, no GC observer, no handle walk', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).to.deep.equal([
      'nodejs_eventloop_lag_seconds', 'nodejs_external_memory_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes',
      'nodejs_version_info', 'process_cpu_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_user_seconds_total',
      'process_max_fds', 'process_open_fds', 'process_resident_memory_bytes', 'process_start_time_seconds',
    ]);
  });
});
