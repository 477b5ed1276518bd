/**
 * Child processes of the benchmark: started pinned to a core when `taskset` is there, their
 * output kept for error messages, and every one of them stopped when the run ends, fails or is
 * interrupted (SIGINT / SIGTERM).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

/** Which core runs what. Null cores = not pinned (no taskset, or a single core). */
export interface CoreLayout {
  readonly pinned: boolean;
  /** The load generator, the upstream(s) and this runner. */
  readonly loadCpu: number | null;
  /** The proxy under test, alone. */
  readonly proxyCpu: number | null;
  readonly description: string;
}

export function coreLayout(): CoreLayout {
  const cores = cpus().length;
  const taskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
  if (!taskset || cores < 2) {
    return {
      pinned: false, loadCpu: null, proxyCpu: null,
      description: `not pinned (${taskset ? `only ${cores} core` : 'taskset not found'}): load generator, upstream and proxy share the cores`,
    };
  }
  return {
    pinned: true, loadCpu: 0, proxyCpu: 1,
    description: 'cpu1: the proxy under test, alone (taskset -c 1, all threads); cpu0: wrk, the upstream(s) and the runner (taskset -c 0)',
  };
}

/** Moves this process (all its threads) to `cpu`, so the runner stays off the proxy's core. */
export function pinSelf(cpu: number | null): void {
  if (cpu === null) return;
  spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

export interface StartOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cpu: number | null;
  /** A short name for messages. */
  readonly name: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Raise the open-files limit of the child to this (through `sh -c 'ulimit -n'`). */
  readonly openFiles?: number;
}

const KEPT_LINES = 200;
const live = new Set<Managed>();

/** A started child process. Its pid is the program's own (the shell and taskset `exec` it). */
export class Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #lines: string[] = [];
  readonly #watchers = new Set<(line: string) => void>();
  readonly exited: Promise<number | null>;

  constructor(options: StartOptions) {
    this.name = options.name;
    let argv = [options.command, ...options.args];
    if (options.cpu !== null) argv = ['taskset', '-c', String(options.cpu), ...argv];
    if (options.openFiles !== undefined) argv = ['sh', '-c', `ulimit -n ${options.openFiles} && exec "$@"`, 'sh', ...argv];
    this.child = spawn(argv[0] as string, argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        live.delete(this);
        resolve(code);
      });
      this.child.once('error', (err) => {
        this.#keep(`${this.name}: ${err.message}`);
        live.delete(this);
        resolve(null);
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.#keep(line);
      });
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start: ${this.output()}`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** The last lines the process printed (stdout and stderr interleaved). */
  output(): string {
    return this.#lines.join('\n');
  }

  /** Resolves with the first line (already printed or to come) that `test` accepts. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const seen = this.#lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#watchers.delete(watch);
      };
      const watch = (line: string): void => {
        if (!test(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no expected output within ${timeoutMs} ms; last output:\n${this.output()}`));
      }, timeoutMs);
      this.#watchers.add(watch);
      void this.exited.then((code) => {
        if (!this.#watchers.has(watch)) return;
        done();
        reject(new Error(`${this.name} exited (${code}) before it was ready; last output:\n${this.output()}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > KEPT_LINES) this.#lines.shift();
    for (const watch of [...this.#watchers]) watch(line);
  }
}

export function start(options: StartOptions): Managed {
  return new Managed(options);
}

export interface Completed {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command to its end and returns its exit code and output (stdout then stderr). */
export async function run(options: StartOptions, timeoutMs: number): Promise<Completed> {
  const child = start(options);
  let stdout = '';
  let stderr = '';
  child.child.stdout?.on('data', (chunk: string) => { stdout += chunk; });
  child.child.stderr?.on('data', (chunk: string) => { stderr += chunk; });
  const timer = setTimeout(() => child.child.kill('SIGKILL'), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, output: stdout + stderr };
}

/** Stops every process still running (in parallel). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => child.stop()));
}

/** Stops what the benchmark started on SIGINT / SIGTERM, and kills it at the latest on exit. */
export function installCleanup(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping the processes the benchmark started\n`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const child of live) child.child.kill('SIGKILL');
  });
}
