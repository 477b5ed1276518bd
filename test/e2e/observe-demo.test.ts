/**
 * `plexus stat`, `tap` and `top` (the real binary) against the demo's running local agent: the
 * 90/10 split of shop/web and the 403s of the unknown caller show.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../helpers/paths.js';
import { runPlexus, startAgent } from './helpers/plexus.js';
import { startDemo, type RunningDemo } from './helpers/demo-process.js';

interface StatJson {
  readonly services: ReadonlyArray<{ key: string; requests: number; successRate: number | null; rps: number; p99: number | null }>;
  readonly sources: ReadonlyArray<{ key: string; requests: number; successRate: number | null }>;
  readonly backends: ReadonlyArray<{ key: string; requests: number }>;
}

describe('plexus stat / tap / top against the demo (the real binary)', function () {
  this.timeout(120_000);
  let demo: RunningDemo;

  before(async () => {
    demo = await startDemo('127.162.0.0/24');
  });

  after(async () => {
    expect(await demo.stop()).to.equal(0);
  });

  it('the demo prints the observing commands for its agent', () => {
    expect(demo.stdout()).to.contain(`npx plexus stat shop/web --from --admin ${demo.adminUrl}`);
    expect(demo.stdout()).to.contain(`npx plexus dashboard --admin ${demo.adminUrl}`);
    expect(demo.stdout()).to.match(/web\.shop\.plexus:8080 \(http from an unknown caller\): \d+ sent/);
  });

  it('stat: per caller, the frontend succeeds and the unknown caller is denied; the split shows per backend', async () => {
    const result = await runPlexus(['stat', 'shop/web', '--from', '--window', '3', '--admin', demo.adminUrl, '-o', 'json']);
    expect(result.code, result.stderr).to.equal(0);
    const report = JSON.parse(result.stdout) as StatJson;
    const web = report.services.find((row) => row.key === 'shop/web')!;
    expect(web.requests).to.be.greaterThan(0);
    expect(web.rps).to.be.greaterThan(0);
    expect(web.p99).to.be.a('number');
    const frontend = report.sources.find((row) => row.key === 'shop/frontend → shop/web')!;
    const unknown = report.sources.find((row) => row.key === 'unknown → shop/web')!;
    expect(frontend.successRate).to.equal(1);
    expect(unknown.requests).to.be.greaterThan(0);
    expect(unknown.successRate).to.equal(0);
    const v1 = report.backends.find((row) => row.key === 'shop/web → shop/web-v1')!;
    const v2 = report.backends.find((row) => row.key === 'shop/web → shop/web-v2')!;
    // 90/10 by weight: with tens of requests the heavier backend serves more.
    expect(v1.requests).to.be.greaterThan(v2.requests);
    expect(v2.requests).to.be.greaterThan(0);
  });

  it('stat: the table a user reads', async () => {
    const result = await runPlexus(['stat', 'shop', '--window', '2', '--admin', demo.adminUrl]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^namespace shop: last \d+\.\d s, 1 agent/);
    expect(result.stdout).to.match(/SERVICE\s+SUCCESS\s+RPS\s+P50\s+P95\s+P99\s+REQUESTS/);
    expect(result.stdout).to.match(/shop\/web\s+\d+\.\d\d%\s+\d+\.\drps/);
    expect(result.stdout).to.match(/SPLIT → BACKEND[\s\S]*shop\/web → shop\/web-v1[\s\S]*\d+\.\d\d%/);
  });

  it('tap: live requests of the unknown caller, 403 and FAILED, without header values', async () => {
    const result = await runPlexus(['tap', 'shop/web', '--from', 'unknown', '--max', '3', '--duration', '30', '--admin', demo.adminUrl]);
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).to.have.length(3);
    for (const line of lines) expect(line).to.match(/ unknown \(127\.0\.0\.1\) → shop\/web:8080 GET \/ 403 \(forbidden\) [\d.]+m?s FAILED$/);
  });

  it('tap --path filters on the reading side; a bad expression is a located usage error', async () => {
    const none = await runPlexus(['tap', 'shop/web', '--path', '^/never', '--duration', '2', '--admin', demo.adminUrl]);
    expect(none.code, none.stderr).to.equal(0);
    expect(none.stdout).to.equal('');
    const bad = await runPlexus(['tap', 'shop/web', '--path', '(', '--admin', demo.adminUrl]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/plexus: --path: Invalid regular expression/);
  });

  it('top: the busiest paths, with counts and success', async () => {
    const result = await runPlexus(['top', '--duration', '3', '--admin', demo.adminUrl]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/SOURCE\s+DESTINATION\s+METHOD\s+PATH\s+COUNT/);
    expect(result.stdout).to.match(/shop\/frontend\s+shop\/web:8080\s+GET\s+\/\s+\d+\s.*100\.00%/);
    expect(result.stdout).to.match(/unknown\s+shop\/web:8080\s+GET\s+\/\s+\d+\s.*0\.00%/);
  });

  it('says plainly when the agent is not there', async () => {
    const result = await runPlexus(['stat', '--window', '1', '--admin', 'http://127.162.255.1:9901']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.match(/plexus: could not read any agent's metrics:\n {2}cannot reach the agent at http:\/\/127\.162\.255\.1:9901: .*ECONNREFUSED.* \(is it running\? see --admin\)/);
  });
});

describe('plexus agent --tap-token-file (the real binary)', function () {
  this.timeout(120_000);

  it('refuses a tap without the token, even from loopback, and serves one that sends it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plexus-tap-token-'));
    await writeFile(join(dir, 'token'), 'from-a-file\n');
    const agent = await startAgent(['--manifests', join(REPO_ROOT, 'examples', 'shop'), '--vip-cidr', '127.165.0.0/24', '--dns-port', '0', '--tap-token-file', join(dir, 'token')]);
    try {
      const refused = await fetch(`http://127.0.0.1:${agent.ready.adminPort}/tap`);
      expect(refused.status).to.equal(403);
      expect(await refused.json()).to.deep.equal({ error: 'tap needs the mesh\'s tap token in x-plexus-tap-token' });
      const served = await fetch(`http://127.0.0.1:${agent.ready.adminPort}/tap?namespace=shop`, { headers: { 'x-plexus-tap-token': 'from-a-file' } });
      expect(served.status).to.equal(200);
      await served.body?.cancel();
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
