/** `plexus dashboard` started as a user starts it (the real binary), and the URL it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { PLEXUS_ARGV } from '../../helpers/paths.js';

export interface RunningDashboard {
  readonly child: ChildProcess;
  /** The page's URL, once the command printed it; rejects when the command exits first. */
  readonly url: Promise<string>;
}

/** `args`: where the agents are (`--admin URL` or `--kubeconfig PATH`) and any other option. */
export function startDashboard(args: readonly string[], env: NodeJS.ProcessEnv = process.env): RunningDashboard {
  const child = spawn(process.execPath, [...PLEXUS_ARGV, 'dashboard', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const url = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /Plexus dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
      if (found) resolve(found);
    });
    child.on('exit', (code) => reject(new Error(`the dashboard exited (${code}): ${stdout}`)));
  });
  return { child, url };
}
