/** `plexus demo`, started and stopped by a test: it serves, counts, and leaves nothing behind. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { PLEXUS_ARGV } from '../helpers/paths.js';
import { runPlexus } from './helpers/plexus.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('plexus demo (the real binary)', function () {
  this.timeout(240_000);

  it('runs for --duration seconds, prints what to try and live counts, then stops cleanly', async () => {
    const result = await runPlexus(['demo', '--duration', '4', '--admin-port', '0', '--dns-port', '0', '--vip-cidr', '127.128.0.0/24'], 200_000);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/curl --interface 127\.0\.10\.100 http:\/\/127\.128\.0\.\d+:8080\//);
    expect(result.stdout).to.match(/shop\/web-v1: \d+/);
    expect(result.stdout).to.match(/web\.shop\.plexus:8080 \(http from shop\/frontend\): \d+ sent, \d+ answered, 0 failed/);
    expect(result.stdout).to.contain('plexus_requests_total');
    const pid = Number(/agent pid (\d+)/.exec(result.stdout)?.[1]);
    expect(pid).to.be.greaterThan(0);
    expect(alive(pid)).to.equal(false);
  });

  it('says which address is taken when its agent cannot listen, and exits 2', async () => {
    const squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const address = squatter.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const result = await runPlexus(['demo', '--duration', '3', '--admin-port', String(port), '--dns-port', '0', '--vip-cidr', '127.131.0.0/24'], 200_000);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain(`cannot listen on 127.0.0.1:${port}`).and.to.contain('--admin-port');
    } finally {
      squatter.close();
    }
  });

  // Ctrl-C in a terminal sends SIGINT to the whole foreground process group, so the demo is
  // started as its own group and the group is signalled, as the terminal would.
  for (const [signal, vipCidr] of [['SIGINT', '127.129.0.0/24'], ['SIGTERM', '127.130.0.0/24']] as const) {
    it(`stops cleanly on ${signal} to its process group, stopping its agent and leaving no file behind`, async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'plexus-demo-test-'));
      const child = spawn(process.execPath, [...PLEXUS_ARGV, 'demo', '--admin-port', '0', '--dns-port', '0', '--vip-cidr', vipCidr], {
        stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, TMPDIR: tmp },
      });
      let stdout = '';
      try {
        const agentPid = await new Promise<number>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            stdout += chunk.toString();
            const match = /agent pid (\d+)/.exec(stdout);
            if (match && stdout.includes('sent,')) resolve(Number(match[1]));
          });
          child.on('exit', (code) => reject(new Error(`demo exited early (${code}): ${stdout}`)));
        });
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        process.kill(-(child.pid ?? 0), signal);
        expect(await exited, stdout).to.equal(0);
        expect(alive(agentPid)).to.equal(false);
        expect(await readdir(tmp)).to.deep.equal([]);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }
});
