/**
 * `plexus demo --servers-only`: the sample pods for an agent run by hand. The agent command it
 * prints, run as printed, serves the folder: requests through the VIP reach the sample pods.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { PLEXUS_ARGV, REPO_ROOT } from '../helpers/paths.js';

/** Test runs in other worktrees share the machine: pod IPs and VIPs in blocks of this run's own. */
const OCTET = 40 + Math.floor(Math.random() * 200);
const PODS = `127.0.${OCTET}.`;
const VIP_CIDR = `127.134.${OCTET}.0/24`;

/** The shop with its pod IPs moved to PODS, so it does not meet another run's servers. */
async function shopCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plexus-servers-only-'));
  await cp(join(REPO_ROOT, 'examples', 'shop'), dir, { recursive: true });
  const pods = join(dir, 'pods.yaml');
  await writeFile(pods, (await readFile(pods, 'utf8')).replaceAll('127.0.10.', PODS));
  return dir;
}

function get(vip: string, port: number, localAddress?: string): Promise<{ status: number; servedBy: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: vip, port, path: '/', ...(localAddress ? { localAddress } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy: res.headers['x-served-by'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('plexus demo --servers-only (the real binary)', function () {
  this.timeout(90_000);

  it('starts the sample pods and prints an agent command that, run as printed, serves them', async () => {
    const dir = await shopCopy();
    const demo = spawn(process.execPath, [...PLEXUS_ARGV, 'demo', '--servers-only', '--manifests', dir, '--admin-port', '0', '--dns-port', '0', '--vip-cidr', VIP_CIDR], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => demo.on('exit', (code) => resolve(code)));
    let agent: AgentProcess | null = null;
    let stdout = '';
    try {
      await new Promise<void>((resolve, reject) => {
        demo.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Ctrl-C stops the servers.')) resolve();
        });
        void exited.then((code) => reject(new Error(`demo exited early (${code}): ${stdout}`)));
      });
      expect(stdout).to.contain(`shop/web-v1  ${PODS}1:8080 (http)`).and.to.contain(`shop/cart  ${PODS}3:9000 (tcp)`);
      expect(stdout).not.to.contain('not started');
      const command = /^ {2}plexus agent (.*)$/m.exec(stdout)?.[1];
      expect(command, stdout).to.equal(`--manifests ${dir} --acl --vip-cidr ${VIP_CIDR} --dns-port 0 --admin-port 0`);
      agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], ['agent', ...command!.split(' ')]);
      const ready = await agent.ready();
      const vip = ready.vips['shop/web'];
      expect(vip?.startsWith(`127.134.${OCTET}.`), vip).to.equal(true);
      const allowed = await get(vip!, 8080, `${PODS}100`);
      expect(allowed.status).to.equal(200);
      expect(allowed.servedBy).to.be.oneOf(['shop/web-v1', 'shop/web-v2']);
      expect((await get(vip!, 8080)).status).to.equal(403);
      demo.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(stdout).to.contain('Stopping: sample servers.');
    } finally {
      await agent?.stop();
      if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
