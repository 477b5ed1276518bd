/**
 * The commands that talk to the API server, run as the real binary against one nobody answers:
 * one line naming the server and the reason, nothing on stdout, exit 2; no FAIL line per check.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runPlexus } from './helpers/plexus.js';

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function kubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "' + server + '", insecure-skip-tls-verify: true}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
    '',
  ].join('\n');
}

describe('CLI commands against an unreachable API server (the real binary)', function () {
  this.timeout(60_000);
  let dir: string;
  let refused: string;
  let refusedServer: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-unreachable-'));
    refusedServer = `https://127.0.0.1:${await closedPort()}`;
    refused = join(dir, 'refused.yaml');
    await writeFile(refused, kubeconfig(refusedServer));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const command of [['check'], ['prepare'], ['cleanup'], ['ca', 'rotate']]) {
    it(`plexus ${command.join(' ')}: one line "cannot reach the API server at …: connection refused", exit 2`, async () => {
      const result = await runPlexus([...command, '--kubeconfig', refused]);
      expect(result.stderr).to.equal(`plexus: cannot reach the API server at ${refusedServer}: connection refused\n`);
      expect(result.stdout).to.equal('');
      expect(result.code).to.equal(2);
    });
  }

  it('names an unknown host as such', async () => {
    const file = join(dir, 'unknown-host.yaml');
    await writeFile(file, kubeconfig('https://plexus-test-no-such-host.invalid:6443'));
    const result = await runPlexus(['check', '--kubeconfig', file]);
    // Without a reachable resolver (a test network namespace) the lookup fails as temporary instead.
    expect(result.stderr).to.match(/^plexus: cannot reach the API server at https:\/\/plexus-test-no-such-host\.invalid:6443: (no such host|the host name could not be resolved \(temporary DNS failure\))\n$/);
    expect(result.code).to.equal(2);
  });
});
