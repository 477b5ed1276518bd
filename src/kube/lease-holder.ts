/**
 * The leader Lease's holder identity, `<node>/<pod>/<pid>`: written by the agent that leads
 * (src/run/kube-agent.ts); `plexus check` shows it.
 */
export function leaseHolderIdentity(nodeName: string, podName: string, pid: number): string {
  return `${nodeName}/${podName}/${pid}`;
}
