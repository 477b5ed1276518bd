/** kubectl against the test cluster only: every call names its kubeconfig explicitly. */
import { spawn } from 'node:child_process';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  /** The call is killed after this long (default 120 s). */
  readonly timeoutMs?: number;
}

export class Kubectl {
  constructor(readonly command: string, readonly kubeconfig: string) {}

  /** Runs `kubectl ARGS`; resolves with the exit code and output whatever it is. */
  run(args: readonly string[], options: RunOptions = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, ['--kubeconfig', this.kubeconfig, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, KUBECONFIG: this.kubeconfig },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** Runs `kubectl ARGS` and returns its stdout; rejects with its stderr when it fails. */
  async ok(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    return result.stdout;
  }

  /** `kubectl get ... -o json`, parsed; null when the object does not exist. */
  async get<T>(args: readonly string[]): Promise<T | null> {
    const result = await this.run(['get', ...args, '-o', 'json']);
    if (result.code !== 0) {
      if (/NotFound|not found/.test(result.stderr)) return null;
      throw new Error(`kubectl get ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return JSON.parse(result.stdout) as T;
  }

  /** `kubectl apply -f -` of YAML or JSON text. */
  apply(text: string): Promise<string> {
    return this.ok(['apply', '-f', '-'], { input: text });
  }
}
