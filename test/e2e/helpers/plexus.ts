/** Running the real `plexus` binary from tests: one-shot commands and agents. */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { AgentProcess, type AgentReady } from '../../../src/demo/agent-process.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import { PLEXUS_ARGV } from '../../helpers/paths.js';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `plexus ...args` to completion (killed after `timeoutMs`: generous, a start-up takes seconds on a loaded machine). */
export function runPlexus(args: readonly string[], timeoutMs = 180_000, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...PLEXUS_ARGV, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningAgent {
  readonly process: AgentProcess;
  readonly ready: AgentReady;
  stop(): Promise<number | null>;
}

/** Starts `plexus agent ...args` and waits for its `agent ready` line. */
export async function startAgent(args: readonly string[]): Promise<RunningAgent> {
  const agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], ['agent', '--admin-port', '0', ...args]);
  try {
    const ready = await agent.ready();
    return { process: agent, ready, stop: () => agent.stop() };
  } catch (err) {
    await agent.stop();
    throw err;
  }
}

/** A port free for both UDP and TCP on `address` right now (for --dns-port, where 0 means off). */
export async function freeDnsPort(address = '127.0.0.1'): Promise<number> {
  for (;;) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, address, () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, address, () => server.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
}

export interface ConfigView {
  readonly generation: number;
  readonly config: MeshConfig;
}

/** Polls the agent's /config until `accept` holds (fails after `timeoutMs`). */
export async function waitForConfig(adminPort: number, accept: (view: ConfigView) => boolean, timeoutMs = 60_000): Promise<ConfigView> {
  const deadline = Date.now() + timeoutMs;
  let last: ConfigView | null = null;
  while (Date.now() < deadline) {
    const response = await fetch(`http://127.0.0.1:${adminPort}/config`).catch(() => null);
    if (response?.ok) {
      last = (await response.json()) as ConfigView;
      if (accept(last)) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the agent did not reach the expected config in ${timeoutMs} ms (last generation ${last?.generation ?? 'none'})`);
}

/** Sums the samples of `name` whose labels include every `labels` pair. */
export async function metricValue(adminPort: number, name: string, labels: Readonly<Record<string, string>> = {}, host = '127.0.0.1'): Promise<number> {
  const text = await (await fetch(`http://${host}:${adminPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}

/**
 * Retries `attempt` until it resolves (its result is returned) or `timeoutMs` passes (its last
 * error is thrown). For what follows a reload: listeners bind and DNS switches just after the
 * new config shows in /config. The bound is generous: a loaded 2-core machine is slow, and the
 * wait ends as soon as the state is reached.
 */
export async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
