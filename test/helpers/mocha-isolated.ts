/**
 * `npm test`: mocha with the given arguments, in a network namespace of its own when it can
 * (Linux, as root, `unshare` and `ip` present): its loopback is then its alone, so the fixed
 * loopback addresses the tests use (127.0.22.1:8080 ...) cannot collide with another checkout's
 * test run on the same machine. Otherwise it says so in one line and runs on the host's loopback.
 * The namespace also gets one address that is not loopback, 192.0.2.1 (TEST-NET-1) on `lo`, so
 * tests of loopback-only endpoints can call from a non-loopback address as another pod would.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';
import { pruneStaleOutputs } from './prune-stale-outputs.js';

const MOCHA = join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
/**
 * Inside: loopback up (and 192.0.2.1), and name lookups from /etc/hosts only (a private mount of
 * nsswitch.conf): there is no DNS server in the namespace, so an unknown name is "not found" at
 * once, as the host's resolver says, instead of "try again".
 */
const UP_AND_RUN = 'ip link set lo up && ip addr add 192.0.2.1/32 dev lo '
  + '&& f=$(mktemp) && sed "s/^hosts:.*/hosts: files/" /etc/nsswitch.conf > "$f" && mount --bind "$f" /etc/nsswitch.conf && exec "$@"';
const UNSHARE = ['--net', '--mount', 'sh', '-c', UP_AND_RUN, 'sh'];

function canIsolate(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || process.env.PLEXUS_TEST_SHARED_LOOPBACK === '1') return false;
  return spawnSync('unshare', [...UNSHARE, 'true'], { stdio: 'ignore' }).status === 0;
}

pruneStaleOutputs();
const args = process.argv.slice(2);
const [file, ...rest] = canIsolate()
  ? ['unshare', ...UNSHARE, process.execPath, MOCHA, ...args]
  : [process.execPath, MOCHA, ...args];
if (file === 'unshare') console.log('(tests run in a network namespace of their own: a private loopback)');
else console.log('(tests share the host\'s loopback: no private network namespace; see test/helpers/mocha-isolated.ts)');
const child = spawn(file!, rest, { stdio: 'inherit', cwd: REPO_ROOT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
