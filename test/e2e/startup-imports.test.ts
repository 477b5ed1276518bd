import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { AgentProcess } from '../../src/demo/agent-process.js';
import { PLEXUS_ARGV, REPO_ROOT } from '../helpers/paths.js';

// What a process loads is what it pays for in memory: the Kubernetes client alone is ~90 MB of
// RSS, so local mode and `plexus config` must never import it (checked by what was imported,
// never by a memory figure).
const IMPORT_LOG_ENTRY = fileURLToPath(new URL('./helpers/import-log.js', import.meta.url));
const SHOP = join(REPO_ROOT, 'examples', 'shop');
const HEAVY_PACKAGES = ['@kubernetes/client-node', 'node-forge', 'http-proxy'];
/** What prom-client's index would pull in besides the metric classes the agent uses (telemetry/prom.ts). */
const UNUSED_PROM_CLIENT_PARTS = ['@opentelemetry/api', 'tdigest', 'bintrees'];

/** The node_modules packages named in an import log. */
function packagesIn(log: string): Set<string> {
  const names = new Set<string>();
  for (const url of log.split('\n')) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

describe('what plexus loads at startup (the real binary)', () => {
  let dir: string;
  let logFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-imports-'));
    logFile = join(dir, 'imports.log');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a local-mode agent loads neither the Kubernetes client nor node-forge nor http-proxy, nor prom-client\'s unused parts', async () => {
    process.env.PLEXUS_TEST_IMPORT_LOG = logFile;
    const agent = new AgentProcess(
      [process.execPath, '--import', IMPORT_LOG_ENTRY, ...PLEXUS_ARGV],
      ['agent', '--manifests', SHOP, '--admin-port', '0', '--dns-port', '0', '--vip-cidr', '127.130.0.0/24'],
    );
    delete process.env.PLEXUS_TEST_IMPORT_LOG;
    try {
      await agent.ready();
    } finally {
      await agent.stop();
    }
    const loaded = packagesIn(await readFile(logFile, 'utf8'));
    // The log does record packages: the agent's own dependencies are there.
    expect([...loaded]).to.include.members(['yaml', 'prom-client', 'pino']);
    for (const name of [...HEAVY_PACKAGES, ...UNUSED_PROM_CLIENT_PARTS]) expect(loaded.has(name), `${name} was loaded`).to.equal(false);
  });

  it('plexus config loads no Kubernetes client', async () => {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', IMPORT_LOG_ENTRY, ...PLEXUS_ARGV, 'config', '--manifests', SHOP], {
        env: { ...process.env, PLEXUS_TEST_IMPORT_LOG: logFile },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).to.equal(0);
    const loaded = packagesIn(await readFile(logFile, 'utf8'));
    expect([...loaded]).to.include('yaml');
    expect(loaded.has('@kubernetes/client-node')).to.equal(false);
  });

  it('plexus check, which talks to a cluster, does load it (the log sees lazy imports)', async () => {
    // --help runs the command's builder only: enough to load its module, no cluster needed.
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', IMPORT_LOG_ENTRY, ...PLEXUS_ARGV, 'check', '--help'], {
        env: { ...process.env, PLEXUS_TEST_IMPORT_LOG: logFile },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).to.equal(0);
    expect(packagesIn(await readFile(logFile, 'utf8')).has('@kubernetes/client-node')).to.equal(true);
  });
});
