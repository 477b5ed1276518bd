/**
 * The cluster a `test:cluster` run uses, as the runner (test/cluster/run.ts) hands it to the test
 * files: one JSON environment variable, so a test never falls back to the user's kubectl context.
 */
export interface ClusterTarget {
  /** Admin kubeconfig of the disposable cluster. */
  readonly kubeconfig: string;
  /** The kubectl to run (the kit's, or the one on PATH). */
  readonly kubectl: string;
  /** The Plexus agent image as the node knows it (built from a clean clone, or PLEXUS_TEST_IMAGE). */
  readonly image: string;
  /** An image with bash, curl, dig, nc and node for client and backend pods. */
  readonly toolsImage: string;
  /** The kit's folder when the cluster is the kit's (secure-mode tests may need `reset`). */
  readonly kit: string | null;
}

export const TARGET_ENV = 'PLEXUS_TEST_CLUSTER_TARGET';

/** The target the runner set, or null when the file runs outside `npm run test:cluster`. */
export function clusterTarget(): ClusterTarget | null {
  const text = process.env[TARGET_ENV];
  if (text === undefined || text === '') return null;
  const parsed = JSON.parse(text) as Partial<ClusterTarget>;
  for (const key of ['kubeconfig', 'kubectl', 'image', 'toolsImage'] as const) {
    if (typeof parsed[key] !== 'string' || parsed[key] === '') throw new Error(`${TARGET_ENV}: "${key}" missing`);
  }
  return { kit: null, ...parsed } as ClusterTarget;
}
