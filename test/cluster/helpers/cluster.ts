/** The handle test files get: the cluster the runner chose, kubectl on it, and waiting for states. */
import { Kubectl } from './kubectl.js';
import { clusterTarget, type ClusterTarget } from './target.js';

export class TestCluster {
  readonly kubectl: Kubectl;

  constructor(readonly target: ClusterTarget) {
    this.kubectl = new Kubectl(target.kubectl, target.kubeconfig);
  }
}

let shared: TestCluster | null = null;

/**
 * The cluster of this run; skips the calling suite (in its `before`) when the file runs outside
 * `npm run test:cluster`, which alone picks a disposable cluster.
 */
export function clusterUnderTest(context: Mocha.Context): TestCluster {
  const target = clusterTarget();
  if (target === null) {
    console.log('      (skipped: run through `npm run test:cluster`, which picks a disposable cluster)');
    context.skip();
  }
  shared ??= new TestCluster(target);
  return shared;
}

/**
 * Polls `check` every 500 ms until it returns a value other than undefined (returned) or
 * `timeoutMs` passes: then fails naming `what` and the last thing `check` threw or saw.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last === '' ? '' : ` (last: ${last})`}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
