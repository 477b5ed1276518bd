/**
 * The leader Lease's holder identity, `<node>/<pod>/<pid>`: written by the agent that leads
 * (src/run/kube-agent.ts), read by agents looking for the leader's pod (secure mode's issuer).
 */
export function leaseHolderIdentity(nodeName: string, podName: string, pid: number): string {
  return `${nodeName}/${podName}/${pid}`;
}

/** The pod of a holder identity; null when nobody holds the Lease or it is not ours. */
export function podOfLeaseHolder(holder: string): string | null {
  const parts = holder.split('/');
  return parts.length === 3 && parts[1] !== '' ? parts[1]! : null;
}
