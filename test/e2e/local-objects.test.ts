/** The agent drops no object silently: each is used, logged as a problem, or logged as ignored. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { FIXTURES, PLEXUS_ARGV } from '../helpers/paths.js';

interface LogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The agent's log lines up to and including `agent ready`; the agent is stopped then. */
function logUntilReady(args: readonly string[]): Promise<LogLine[]> {
  const child = spawn(process.execPath, [...PLEXUS_ARGV, 'agent', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: LogLine[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    createInterface({ input: child.stderr }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      lines.push(line);
      if (line.msg === 'agent ready') child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      if (lines.some((line) => line.msg === 'agent ready')) resolve(lines);
      else reject(new Error(`the agent stopped before it was ready:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`));
    });
  });
}

describe('local agent: every object of the folder is used, reported or listed as ignored', () => {
  it('logs typos as located problems and kinds it does not use as ignored', async () => {
    const dir = join(FIXTURES, 'config', 'unused-objects');
    const file = join(dir, 'shop.yaml');
    const lines = await logUntilReady(['--manifests', dir, '--admin-port', '0', '--dns-port', '0', '--vip-cidr', '127.0.61.0/24']);
    expect(lines.filter((l) => l.msg === 'config problem').map((l) => l['problem'])).to.have.members([
      `error: Servce shop/typo-kind: kind "Servce" is not a kind of apiVersion v1 (did you mean Service?); the object is not used (${file}:22)`,
      `error: Service shop/typo-version: apiVersion "v9" does not exist: the core API group (Service, Pod, …) has only "v1" (${file}:13)`,
    ]);
    const ignored = lines.filter((l) => l.msg === 'objects ignored: Plexus does not use this kind');
    expect(ignored.map((l) => [l['apiVersion'], l['kind'], l['count'], l['objects']])).to.deep.equal([
      ['apps/v1', 'Deployment', 1, [`Deployment shop/web (apps/v1, ${file}:28)`]],
      ['v1', 'ConfigMap', 1, [`ConfigMap shop/settings (v1, ${file}:34)`]],
    ]);
  });
});
