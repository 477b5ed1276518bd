/**
 * The agent image as a user gets it: built by the kit from the Dockerfile of a clean copy of
 * HEAD (`git archive`, so nothing of this working tree but what is committed). Tagged by a hash
 * of what the image is made of (IMAGE_INPUTS as committed in HEAD): a commit that changes only
 * tests or docs reuses the image already on the node.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Output {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], cwd?: string): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(file: string, args: readonly string[], cwd?: string): Promise<string> {
  const out = await run(file, args, cwd);
  if (out.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${out.code}:\n${out.stderr.trim() || out.stdout.trim()}`);
  return out.stdout.trim();
}

/** What the Dockerfile copies into the runtime image or builds it from. */
const IMAGE_INPUTS = ['Dockerfile', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.src.json', 'bin', 'src', 'examples'];

export interface KitPaths {
  readonly kit: string;
  readonly state: string;
}

/** Whether the kit's node already holds `ref`. */
async function imagePresent(paths: KitPaths, ref: string): Promise<boolean> {
  const crictl = join(paths.state, 'bin', 'crictl');
  return (await run(crictl, ['--config', join(paths.state, 'etc', 'crictl.yaml'), 'inspecti', ref])).code === 0;
}

/**
 * Builds (or finds) the image of HEAD in the kit's node; returns the reference the kubelet uses.
 * `log` gets one line saying which commit the image holds and whether it was built.
 */
export async function kitImageOfHead(repo: string, paths: KitPaths, rebuild: boolean, log: (line: string) => void): Promise<string> {
  const commit = await must('git', ['rev-parse', '--short=12', 'HEAD'], repo);
  const inputs = await must('git', ['ls-tree', 'HEAD', '--', ...IMAGE_INPUTS], repo);
  const key = createHash('sha256').update(inputs).digest('hex').slice(0, 12);
  const dirty = (await must('git', ['status', '--porcelain', '--untracked-files=no', '--', ...IMAGE_INPUTS], repo)) !== '';
  const tag = `plexus-test:${key}`;
  const ref = `docker.io/library/${tag}`;
  const note = dirty ? ' (uncommitted changes are not in it: commit them to test them)' : '';
  if (!rebuild && await imagePresent(paths, ref)) {
    log(`image ${ref} already on the node: built from the same ${IMAGE_INPUTS.join(', ')} as commit ${commit}${note}`);
    return ref;
  }
  const clone = await mkdtemp(join(tmpdir(), 'plexus-clean-clone-'));
  try {
    await must('sh', ['-c', `git -C "$0" archive --format=tar HEAD | tar -x -C "$1"`, repo, clone]);
    const built = await must(join(paths.kit, 'build-image'), [clone, tag]);
    log(`image ${built} built from the Dockerfile of a clean copy of commit ${commit}${note}`);
    return built.split('\n').pop() ?? ref;
  } finally {
    await rm(clone, { recursive: true, force: true });
  }
}
