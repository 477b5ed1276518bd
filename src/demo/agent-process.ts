/**
 * A `plexus agent` child process, as a user would run it: started with its arguments, ready
 * when it logs `agent ready` (which carries the bound admin and DNS ports and the VIPs), and
 * stopped with SIGTERM (graceful drain), then SIGKILL if it does not exit in time.
 *
 * The child runs in its own process group so a terminal Ctrl-C reaches only the parent, which
 * then stops the child once: a second signal would make the agent skip draining.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface AgentReady {
  readonly adminPort: number;
  readonly dnsPort: number;
  readonly vips: Readonly<Record<string, string>>;
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const PINO_WARN = 40;
const STOP_GRACE_MS = 20_000;

export class AgentProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  /** Warnings and errors the agent logged (the newest last; bounded). */
  readonly warnings: string[] = [];

  /** `env` is added to this process's environment (e.g. the POD_NAME a DaemonSet would set). */
  constructor(command: readonly string[], args: readonly string[], env: Readonly<Record<string, string>> = {}) {
    const [file, ...prefix] = command;
    if (file === undefined) throw new Error('no agent command');
    // The ready line is read as JSON, whatever format the user's environment asks for (an
    // explicit --log-format in `args` still wins, as the command line does over PLEXUS_*).
    this.#child = spawn(file, [...prefix, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, PLEXUS_LOG_FORMAT: 'json', ...env },
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
  }

  /** Settles when the agent exits, with its exit code (null when killed by a signal). */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves with the ready line; rejects if the agent exits first (with its last log lines). */
  ready(): Promise<AgentReady> {
    const stderr = this.#child.stderr;
    if (!stderr) return Promise.reject(new Error('agent stderr not piped'));
    const lines = createInterface({ input: stderr });
    const tail: string[] = [];
    return new Promise((resolve, reject) => {
      let isReady = false;
      lines.on('line', (text) => {
        const line = parseLogLine(text);
        if (!line) return;
        if (line.level >= PINO_WARN) this.#remember(line);
        tail.push(describe(line));
        if (tail.length > 20) tail.shift();
        if (!isReady && line.msg === 'agent ready') {
          isReady = true;
          resolve({
            adminPort: Number(line.adminPort),
            dnsPort: Number(line.dnsPort),
            vips: (line.vips ?? {}) as Record<string, string>,
          });
        }
      });
      void this.#exited.then((code) => {
        if (!isReady) reject(new Error(`the agent exited (code ${code}) before it was ready:\n${tail.join('\n')}`));
      });
    });
  }

  /** Resolves with the exit code once the agent has exited (null when killed by a signal). */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#exited;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #remember(line: LogLine): void {
    this.warnings.push(describe(line));
    if (this.warnings.length > 10) this.warnings.shift();
  }
}

function parseLogLine(text: string): LogLine | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const line = value as Record<string, unknown>;
    return typeof line.level === 'number' && typeof line.msg === 'string' ? (line as LogLine) : null;
  } catch {
    return null;
  }
}

function describe(line: LogLine): string {
  // The agent puts a located problem in `problem` and a fatal one in `error`.
  const reason = line.problem ?? line.error;
  const detail = typeof reason === 'string' ? `: ${reason}` : '';
  return `${line.msg}${detail}`;
}
