/**
 * scale suite: compile time and heap, and a local-mode agent's startup, memory, listener count
 * and time to apply one endpoint change, at N Services (10 endpoints each, N/10 TrafficSplits).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentMetric, appliedGeneration, startAgent, type LocalAgent } from '../lib/agent.js';
import type { CompileProbeResult } from '../lib/compile-probe.js';
import { toYaml } from '../lib/manifests.js';
import { COMPILE_BENCH_JS, COMPILE_PROBE_JS } from '../lib/paths.js';
import { rssMb } from '../lib/proc-stats.js';
import { run, type CoreLayout } from '../lib/processes.js';
import { num, type GoalCheck, type SuiteReport, type Table } from '../lib/report.js';
import { fileRange, namespaceObjects, serviceObjects, SERVICES_PER_FILE, splitCount, splitObjects } from '../lib/scale-cluster.js';
import { median, percentile } from '../lib/stats.js';

export interface ScaleSuiteOptions {
  readonly sizes: readonly number[];
  readonly layout: CoreLayout;
  readonly workDir: string;
}

const VIP_CIDR = '127.100.0.0/16';
/** Ten, so that the p99 of the goal is a real sample (the largest). */
const ENDPOINT_CHANGES = 10;
const APPLY_TIMEOUT_MS = 60_000;

interface AgentScale {
  readonly startupMs: number;
  readonly rssReadyMb: number;
  readonly rssIdleMb: number;
  readonly heapMb: number | null;
  readonly listeners: number | null;
  readonly problems: number | null;
  /** Write of one EndpointSlice file → `/readyz` shows the next generation. */
  readonly applyMs: readonly number[];
  readonly rssAfterChangesMb: number;
}

interface SizeResult {
  readonly services: number;
  readonly compile: CompileProbeResult | null;
  readonly agent: AgentScale | null;
  readonly error: string | null;
}

/** The routing compile benchmark's figures (bench/compile.ts, 10,000 Services, Kubernetes shape). */
interface CompileBench {
  readonly fullMs: number | null;
  readonly heapMb: number | null;
  readonly incrementalMs: number | null;
  readonly output: string;
}

/** The soft or hard (`-Hn`) open-files limit a child gets; null when unknown. */
function openFilesLimit(flag: '-n' | '-Hn'): number | null {
  const text = spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
  if (text === 'unlimited') return 1 << 20;
  const value = Number(text);
  return text !== '' && Number.isFinite(value) ? value : null;
}

function writeCluster(dir: string, services: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'namespaces.yaml'), toYaml(namespaceObjects()));
  writeFileSync(join(dir, 'splits.yaml'), toYaml(splitObjects(services)));
  for (let file = 0; file * SERVICES_PER_FILE < services; file++) writeServiceFile(dir, file, services, 0);
}

/** Writes services file `file` (atomically: a hidden temp file renamed over it). */
function writeServiceFile(dir: string, file: number, services: number, generation: number): void {
  const [first, end] = fileRange(file, services);
  const objects = [];
  for (let i = first; i < end; i++) objects.push(...serviceObjects(i, i === first ? generation : 0));
  const path = join(dir, `services-${String(file).padStart(4, '0')}.yaml`);
  writeFileSync(`${join(dir, '.next')}`, toYaml(objects));
  renameSync(join(dir, '.next'), path);
}

async function compileProbe(services: number, cpu: number | null): Promise<CompileProbeResult> {
  const result = await run({ name: 'compile probe', command: process.execPath, args: ['--expose-gc', COMPILE_PROBE_JS, String(services)], cpu }, 300_000);
  const line = result.output.split('\n').find((l) => l.startsWith('{'));
  if (result.code !== 0 || !line) throw new Error(`compile probe failed (${result.code}):\n${result.output}`);
  return JSON.parse(line) as CompileProbeResult;
}

async function compileBench(cpu: number | null): Promise<CompileBench> {
  const result = await run({ name: 'bench/compile', command: process.execPath, args: ['--expose-gc', COMPILE_BENCH_JS], cpu }, 300_000);
  const read = (pattern: RegExp): number | null => {
    const match = pattern.exec(result.output);
    return match ? Number(match[1]) : null;
  };
  return {
    fullMs: read(/full compile:\s+([\d.]+) ms wall/),
    heapMb: read(/heap used after gc:\s+([\d.]+) MB total/),
    incrementalMs: read(/incremental compile: median ([\d.]+) ms wall/),
    output: result.output.trim(),
  };
}

/** Waits for the agent's `config applied` log line of a generation above `above` (no polling: the agent's CPU is the thing measured). */
async function waitForGeneration(agent: LocalAgent, above: number): Promise<void> {
  await agent.process.waitForLine((line) => appliedGenerationIn(line) > above, APPLY_TIMEOUT_MS);
}

/** The generation of a `config applied` log line; 0 for any other line. */
function appliedGenerationIn(line: string): number {
  if (!line.includes('"msg":"config applied"')) return 0;
  try {
    return (JSON.parse(line) as { generation?: number }).generation ?? 0;
  } catch {
    return 0;
  }
}

/** Asks again (up to 5 times) when a busy agent did not answer an admin request in time. */
async function patiently<T>(ask: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask();
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

async function measureAgent(options: ScaleSuiteOptions, services: number, openFiles: number | null): Promise<{ agent: AgentScale; commandLine: string }> {
  const dir = join(options.workDir, `cluster-${services}`);
  writeCluster(dir, services);
  const agent = await startAgent({
    manifestsDir: dir, vipCidr: VIP_CIDR, acl: false, cpu: options.layout.proxyCpu, readyTimeoutMs: 600_000,
    ...(openFiles === null ? {} : { openFiles }),
  });
  try {
    const pid = agent.process.pid;
    const rssReadyMb = rssMb(pid);
    await sleep(2000);
    const rssIdleMb = rssMb(pid);
    const heapBytes = await patiently(() => agentMetric(agent, 'nodejs_heap_size_used_bytes'));
    const listeners = await patiently(() => agentMetric(agent, 'plexus_listeners'));
    const problems = await patiently(() => agentMetric(agent, 'plexus_config_problems'));
    const applyMs: number[] = [];
    for (let change = 1; change <= ENDPOINT_CHANGES; change++) {
      const before = await patiently(() => appliedGeneration(agent));
      const began = performance.now();
      writeServiceFile(dir, change, services, change);
      await waitForGeneration(agent, before);
      applyMs.push(performance.now() - began);
      await sleep(300);
    }
    return {
      commandLine: agent.commandLine,
      agent: {
        startupMs: agent.startupMs, rssReadyMb, rssIdleMb, heapMb: heapBytes === null ? null : heapBytes / 1e6,
        listeners, problems, applyMs, rssAfterChangesMb: rssMb(pid),
      },
    };
  } finally {
    await agent.process.stop(30_000);
  }
}

/** Issues 7 and 23's goals for the agent at 10,000 Services (not measured without that size). */
function agentGoals(agent: AgentScale | null): GoalCheck[] {
  const rss = agent ? Math.max(agent.rssReadyMb, agent.rssIdleMb) : null;
  const after = agent?.rssAfterChangesMb ?? null;
  const startS = agent ? agent.startupMs / 1000 : null;
  const applyP99 = agent ? percentile(agent.applyMs, 99) : null;
  return [
    { goal: 'agent RSS <= 150 MB at 10,000 Services (ready and idle)', measured: `${num(rss, 1)} MB`, met: rss === null ? null : rss <= 150 },
    {
      goal: `agent RSS after ${ENDPOINT_CHANGES} endpoint changes within 10 % of ready (10,000 Services)`,
      measured: `${num(after, 1)} MB = ${num(rss === null || after === null ? null : after / rss, 2)}x`,
      met: rss === null || after === null ? null : after <= rss * 1.1,
    },
    { goal: 'start -> ready at 10,000 Services <= 3 s', measured: `${num(startS, 1)} s`, met: startS === null ? null : startS <= 3 },
    { goal: 'one endpoint change applied at 10,000 Services <= 200 ms p99', measured: `${num(applyP99)} ms`, met: applyP99 === null ? null : applyP99 <= 200 },
  ];
}

export async function runScaleSuite(options: ScaleSuiteOptions): Promise<SuiteReport> {
  const { layout } = options;
  const notes: string[] = [`pinning: agent and compile runs on ${layout.pinned ? `cpu${layout.proxyCpu}` : 'any core'}; this runner on ${layout.pinned ? `cpu${layout.loadCpu}` : 'any core'}`];
  const softLimit = openFilesLimit('-n');
  const hardLimit = openFilesLimit('-Hn');
  const results: SizeResult[] = [];
  const commands = new Set<string>();
  for (const services of options.sizes) {
    let compile: CompileProbeResult | null = null;
    let agent: AgentScale | null = null;
    let error: string | null = null;
    try {
      compile = await compileProbe(services, layout.proxyCpu);
      const wanted = services + 1024;
      // Only ever raised: one descriptor per listener, plus room for the rest.
      const openFiles = softLimit !== null && softLimit >= wanted ? null : hardLimit === null ? null : Math.min(hardLimit, wanted);
      if (hardLimit !== null && hardLimit < wanted) notes.push(`open-files hard limit ${hardLimit} < ${wanted} needed for ${services} listeners: listeners beyond it fail`);
      const measured = await measureAgent(options, services, openFiles);
      agent = measured.agent;
      commands.add(measured.commandLine);
    } catch (err) {
      error = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
      notes.push(`${services} Services: ${error}`);
    }
    if (compile?.firstProblem) notes.push(`${num(services)} Services: the compile reports ${num(compile.problems)} problems, the first: ${compile.firstProblem}`);
    results.push({ services, compile, agent, error });
  }
  let reference: CompileBench | null = null;
  try {
    reference = await compileBench(layout.proxyCpu);
  } catch (err) {
    notes.push(`bench/compile.js failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  const table: Table = {
    title: `Scale: N meshed Services, 10 endpoints each (2 EndpointSlices), N/10 TrafficSplits, one local-mode agent (--vip-cidr ${VIP_CIDR})`,
    columns: ['Services', 'endpoints', 'splits', 'compile ms (CPU ms)', 'compile heap MB', 'recompile 1 slice ms', 'agent start→ready s', 'RSS MB ready / idle / after changes', 'agent heap MB', 'listeners', 'problems', 'apply 1 endpoint change ms (median, p99)'],
    rows: results.map((r) => {
      const c = r.compile;
      const a = r.agent;
      return [
        num(r.services), num(r.services * 10), num(splitCount(r.services)),
        c ? `${num(c.fullMs)} (${num(c.fullCpuMs)})` : '-', num(c?.heapMb, 1), num(c?.incrementalMs, 1),
        num(a ? a.startupMs / 1000 : null, 1),
        a ? `${num(a.rssReadyMb, 1)} / ${num(a.rssIdleMb, 1)} / ${num(a.rssAfterChangesMb, 1)}` : '-',
        num(a?.heapMb, 1), num(a?.listeners), num(a?.problems),
        a ? `${num(median(a.applyMs))} (${num(percentile(a.applyMs, 99))})` : (r.error ? 'failed' : '-'),
      ];
    }),
  };
  const tables: Table[] = [table];
  if (reference) {
    tables.push({
      title: 'bench/compile.ts (routing\'s compile benchmark: 10,000 Services, 100,000 endpoints, 1,000 TrafficSplits, Kubernetes-mode shape)',
      columns: ['full compile ms', 'heap after gc MB (total)', 'incremental compile ms (median)'],
      rows: [[num(reference.fullMs), num(reference.heapMb), num(reference.incrementalMs, 1)]],
    });
  }
  notes.push(
    ...[...commands].map((c) => `agent: ${c}`),
    `compile: node --expose-gc dist/bench/lib/compile-probe.js N (the agent's own compile options; heap = after gc, compiler + config, input objects excluded) and node --expose-gc dist/bench/compile.js`,
    `manifests: ${SERVICES_PER_FILE} Services (+ their EndpointSlices) per file; an endpoint change rewrites one such file (temp file + rename) and is timed until the agent logs "config applied" for the next generation (includes the file watcher's 20 ms debounce, re-parse of that file, the compile of what changed, the runtime patch and the listener update). ${ENDPOINT_CHANGES} changes.`,
    `open files: soft limit ${softLimit ?? 'unknown'}, hard limit ${hardLimit ?? 'unknown'}; when the soft limit is below Services + 1,024 the agent is started through sh -c 'ulimit -n ...' (up to the hard limit)`,
  );

  const largest = results.find((r) => r.services === 10_000);
  const compileMs = largest?.compile?.fullMs ?? reference?.fullMs ?? null;
  const goals: GoalCheck[] = [
    ...agentGoals(largest?.agent ?? null),
    { goal: 'compile of 10,000 Services / 100,000 endpoints < 1 s', measured: `${num(compileMs)} ms (bench/compile.ts: ${num(reference?.fullMs)} ms)`, met: compileMs === null ? null : compileMs < 1000 && (reference?.fullMs ?? 0) < 1000 },
  ];
  return { suite: 'scale', notes, tables, goals, data: { results, reference } };
}
