/** `plexus demo` started by a test in its own process group, with the admin URL it printed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { PLEXUS_ARGV } from '../../helpers/paths.js';

export interface RunningDemo {
  readonly adminUrl: string;
  /** What the demo printed so far. */
  stdout(): string;
  /** SIGINT to its group (as Ctrl-C), then waits for its exit code. */
  stop(): Promise<number | null>;
}

export async function startDemo(vipCidr: string, timeoutMs = 60_000): Promise<RunningDemo> {
  const child: ChildProcess = spawn(process.execPath, [...PLEXUS_ARGV, 'demo', '--admin-port', '0', '--dns-port', '0', '--vip-cidr', vipCidr], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const adminUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo was not serving within ${timeoutMs} ms: ${stdout}${stderr}`)), timeoutMs);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const port = /curl http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stdout)?.[1];
        if (port !== undefined && stdout.includes('sent,')) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${port}`);
        }
      });
      void exited.then((code) => reject(new Error(`the demo exited early (${code}): ${stdout}${stderr}`)));
    });
    return {
      adminUrl,
      stdout: () => stdout,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid ?? 0), 'SIGINT');
        return exited;
      },
    };
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
    throw error;
  }
}
