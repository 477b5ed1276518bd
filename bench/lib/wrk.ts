/** Runs wrk (pinned to the load core) and parses its report. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './processes.js';
import { parseWrkOutput, type WrkResult } from './wrk-output.js';

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly cpu: number | null;
  /** Think time per connection between requests (wrk's Lua `delay()`), for a moderate rate. */
  readonly delayMs?: number;
  /** Send `Connection: close`: a new TCP connection per request. */
  readonly closeConnection?: boolean;
  /** Where the Lua script is written. */
  readonly workDir: string;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationS}s`, '--latency', '--timeout', '5s'];
  if (options.delayMs !== undefined) {
    const script = join(options.workDir, 'delay.lua');
    writeFileSync(script, `function delay()\n  return ${Math.round(options.delayMs)}\nend\n`);
    args.push('-s', script);
  }
  if (options.closeConnection) args.push('-H', 'Connection: close');
  args.push(options.url);
  const result = await run({ name: 'wrk', command: 'wrk', args, cpu: options.cpu }, (options.durationS + 30) * 1000);
  if (result.code !== 0) throw new Error(`wrk ${args.join(' ')} failed (${result.code}):\n${result.output}`);
  return parseWrkOutput(result.output);
}
