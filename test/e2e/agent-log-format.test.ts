/** `plexus agent --log-format` and PLEXUS_LOG_FORMAT, on the real binary: pretty lines or JSON lines on stderr. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { PLEXUS_ARGV } from '../helpers/paths.js';

/** Runs an agent on an empty folder until it logs that it is ready; returns its stderr up to then. */
async function stderrUntilReady(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawn(process.execPath, [...PLEXUS_ARGV, 'agent', '--manifests', dir, '--admin-port', '0', '--dns-port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PLEXUS_LOG_FORMAT: undefined, ...env },
  });
  let stderr = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('agent ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`agent exited (${code}): ${stderr}`)));
    });
    return stderr;
  } finally {
    child.kill('SIGTERM');
  }
}

describe('plexus agent log formats (the real binary)', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'plexus-log-format-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes JSON lines when stderr is not a terminal', async () => {
    const ready = (await stderrUntilReady(dir, [])).split('\n').find((line) => line.includes('agent ready'));
    expect(JSON.parse(ready ?? '')).to.include({ msg: 'agent ready', level: 30 });
  });

  it('writes readable lines with --log-format pretty', async () => {
    expect(await stderrUntilReady(dir, ['--log-format', 'pretty'])).to.match(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}agent ready adminPort=\d+ dnsPort=0 /m);
  });

  it('reads PLEXUS_LOG_FORMAT, and the command line wins over it', async () => {
    expect(await stderrUntilReady(dir, [], { PLEXUS_LOG_FORMAT: 'pretty' })).to.match(/ INFO {2}agent ready /);
    expect(await stderrUntilReady(dir, ['--log-format', 'json'], { PLEXUS_LOG_FORMAT: 'pretty' })).to.contain('"msg":"agent ready"');
  });
});
