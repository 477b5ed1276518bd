/**
 * `npm run test:cluster`: the test/cluster/ suite against a DISPOSABLE cluster, never the user's
 * current kubectl context.
 *
 * - PLEXUS_TEST_KUBECONFIG=PATH: that cluster (kind, k3d, ...). PLEXUS_TEST_IMAGE names the agent
 *   image already loaded into it and PLEXUS_TEST_TOOLS_IMAGE the client image (test/cluster/README.md).
 * - otherwise the kit at PLEXUS_TEST_KUBE_KIT or ../shared/kube beside this checkout (or beside the
 *   local repository it was cloned from, as in CI's clean clone), when it exists: the runner
 *   takes the lock $KUBE_STATE/plexus-test-cluster.lock (one test:cluster run per cluster), starts
 *   the node (`up --node`), resets the cluster, builds the image from a clean copy of HEAD.
 * - otherwise: one line saying why it skips, exit 0.
 * Arguments are passed to mocha (e.g. one file: `npm run test:cluster -- dist/test/cluster/x.test.js`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../helpers/paths.js';
import { kitImageOfHead } from './helpers/image.js';
import { TARGET_ENV, type ClusterTarget } from './helpers/target.js';

/**
 * The Kubernetes-mode e2e files that run against the real API server too (helpers/api-servers.ts),
 * first (each test resets the cluster), then the cluster suite.
 */
const E2E_ON_REAL_SERVER = ['dist/test/e2e/kube-agent.test.js', 'dist/test/e2e/kube-rbac.test.js'];
/**
 * The cluster files in an order that shares installations: each file's `before` installs only
 * when the agents' arguments or mode differ (a rollout), so the plain-mode files run together,
 * then the files that change the mode (a name here stands for itself and NAME-*), any file not
 * named here, and uninstall last (it removes Plexus).
 */
const CLUSTER_ORDER = ['traffic', 'gamma', 'observe', 'rollout', 'secure', 'acl'];
const CLUSTER_LAST = 'uninstall';

/** The files of test/cluster/ (the sources: dist/ may hold the output of files since removed), in that order. */
function clusterFiles(): string[] {
  const names = readdirSync(join(REPO_ROOT, 'test', 'cluster')).filter((file) => file.endsWith('.test.ts')).map((file) => file.slice(0, -'.test.ts'.length));
  const rank = (name: string): number => {
    if (name === CLUSTER_LAST) return CLUSTER_ORDER.length + 1;
    const at = CLUSTER_ORDER.findIndex((entry) => name === entry || name.startsWith(`${entry}-`));
    return at === -1 ? CLUSTER_ORDER.length : at;
  };
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((name) => join('dist', 'test', 'cluster', `${name}.test.js`));
}
const LOCKED_ENV = 'PLEXUS_TEST_CLUSTER_LOCKED';
const say = (line: string): void => console.log(`test:cluster: ${line}`);

class Skip extends Error {}

function seconds(since: number): string {
  return `${Math.round((Date.now() - since) / 1000)} s`;
}

/** A kit command's stdout (its last line is what it prints for callers); throws with its log tail. */
function kit(dir: string, command: string, args: readonly string[] = []): string {
  const out = spawnSync(join(dir, command), args, { encoding: 'utf8', env: { ...process.env, KUBE_QUIET: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.status !== 0) throw new Error(`${join(dir, command)} ${args.join(' ')} exited ${out.status ?? out.signal}`);
  return out.stdout.trim().split('\n').pop() ?? '';
}

function external(kubeconfig: string): ClusterTarget {
  if (!existsSync(kubeconfig)) throw new Error(`PLEXUS_TEST_KUBECONFIG=${kubeconfig}: no such file`);
  const image = process.env.PLEXUS_TEST_IMAGE ?? '';
  const toolsImage = process.env.PLEXUS_TEST_TOOLS_IMAGE ?? '';
  if (image === '' || toolsImage === '') {
    throw new Error('with PLEXUS_TEST_KUBECONFIG, set PLEXUS_TEST_IMAGE (the agent image loaded into that cluster) and PLEXUS_TEST_TOOLS_IMAGE (test/cluster/tools/Dockerfile): see test/cluster/README.md');
  }
  say(`cluster of ${kubeconfig} (PLEXUS_TEST_KUBECONFIG), image ${image}`);
  return { kubeconfig, kubectl: process.env.PLEXUS_TEST_KUBECTL ?? 'kubectl', image, toolsImage, kit: null };
}

/**
 * The repository this checkout was cloned from, when that is a folder on this machine (a CI's
 * clean clone of a working checkout), else null.
 */
function localOrigin(): string | null {
  const out = spawnSync('git', ['config', '--get', 'remote.origin.url'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const url = out.status === 0 ? out.stdout.trim().replace(/^file:\/\//, '').replace(/\/\.git\/?$/, '') : '';
  return url.startsWith('/') && existsSync(url) ? url : null;
}

/** The kit: PLEXUS_TEST_KUBE_KIT, else ../shared/kube beside this checkout or beside the one it was cloned from. */
function kitDir(): string | null {
  const explicit = process.env.PLEXUS_TEST_KUBE_KIT;
  const origin = localOrigin();
  const candidates = explicit !== undefined && explicit !== ''
    ? [explicit]
    : [REPO_ROOT, ...(origin === null ? [] : [origin])].map((repo) => join(repo, '..', 'shared', 'kube'));
  return candidates.map((dir) => resolve(dir)).find((dir) => existsSync(join(dir, 'up'))) ?? null;
}

/**
 * A child's exit code. SIGINT/SIGTERM sent to this runner are passed on, so mocha stops the
 * agents its tests started (test/helpers/reap-children.ts) before the run ends.
 */
function exitOf(child: ChildProcess): Promise<number> {
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward).on('SIGTERM', forward);
  return new Promise((done) => child.on('close', (code, signal) => {
    process.off('SIGINT', forward).off('SIGTERM', forward);
    done(code ?? (signal === null ? 1 : 128));
  }));
}

/**
 * Re-runs this runner under `flock` on the kit's state dir; returns the exit code. `-o`: the lock's
 * descriptor is not passed on, so the kit's daemons that `up` starts never hold it (they would
 * keep every later run waiting).
 */
function underLock(state: string): Promise<number> {
  mkdirSync(state, { recursive: true });
  const lock = join(state, 'plexus-test-cluster.lock');
  const self = fileURLToPath(import.meta.url);
  return exitOf(spawn('flock', ['-o', '-w', '1800', lock, process.execPath, self, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, [LOCKED_ENV]: '1' },
  }));
}

async function kitTarget(dir: string, state: string): Promise<ClusterTarget> {
  let since = Date.now();
  const kubeconfig = kit(dir, 'up', ['--node']);
  say(`kit cluster ${dir} up (${seconds(since)}), kubeconfig ${kubeconfig}`);
  since = Date.now();
  kit(dir, 'reset');
  say(`reset (${seconds(since)})`);
  since = Date.now();
  const image = process.env.PLEXUS_TEST_IMAGE
    ?? await kitImageOfHead(REPO_ROOT, { kit: dir, state }, process.env.PLEXUS_TEST_REBUILD === '1', (line) => say(`${line} (${seconds(since)})`));
  return { kubeconfig, kubectl: join(state, 'bin', 'kubectl'), image, toolsImage: process.env.PLEXUS_TEST_TOOLS_IMAGE ?? 'localhost/kube-tools:1', kit: dir };
}

function mocha(target: ClusterTarget): Promise<number> {
  const args = process.argv.slice(2);
  return exitOf(spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...(args.length > 0 ? args : [...E2E_ON_REAL_SERVER, ...clusterFiles()])], {
    cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, [TARGET_ENV]: JSON.stringify(target) },
  }));
}

async function main(): Promise<number> {
  const explicit = process.env.PLEXUS_TEST_KUBECONFIG;
  if (explicit !== undefined && explicit !== '') return mocha(external(explicit));
  const dir = kitDir();
  if (dir === null) throw new Skip('no disposable cluster: set PLEXUS_TEST_KUBECONFIG (test/cluster/README.md), or run beside the kit (../shared/kube)');
  if (process.getuid?.() !== 0) throw new Skip(`the kit at ${dir} runs as root only`);
  const state = process.env.KUBE_STATE ?? '/var/lib/plexus-kube';
  if (process.env[LOCKED_ENV] !== '1') return underLock(state);
  const started = Date.now();
  const code = await mocha(await kitTarget(dir, state));
  say(`done in ${seconds(started)}`);
  return code;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  if (err instanceof Skip) {
    say(`skipped, ${err.message}`);
    return;
  }
  console.error(`test:cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
});
