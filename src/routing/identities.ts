/**
 * The source identity table of one node: pod IP → namespace, pod, ServiceAccount, for the
 * running, non-hostNetwork pods of that node. A pod with no nodeName counts as on every node:
 * in local mode (files, no scheduler) pods are usually written without one.
 */
import type { SourceIdentity } from './mesh-config.js';
import type { PodInfo } from './kube/types.js';
import { compareAddresses } from './ip-order.js';
import { problem, type Problem } from '../model/problem.js';

export function nodeIdentities(pods: Iterable<PodInfo>, nodeName: string, problems: Problem[]): SourceIdentity[] {
  const local = [...pods]
    .filter((p) => p.running && !p.hostNetwork && (p.nodeName === null || p.nodeName === nodeName))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const byIp = new Map<string, SourceIdentity>();
  for (const pod of local) {
    for (const ip of pod.ips) {
      const holder = byIp.get(ip);
      if (holder) {
        problems.push(problem({ kind: 'Pod', namespace: pod.id.namespace, name: pod.id.name },
          `IP ${ip} is also held by Pod ${holder.namespace}/${holder.pod} (that one identifies the source)`, 'warning', pod.source));
        continue;
      }
      byIp.set(ip, { ip, namespace: pod.id.namespace, pod: pod.id.name, serviceAccount: pod.serviceAccount });
    }
  }
  return [...byIp.values()].sort((a, b) => compareAddresses(a.ip, 0, b.ip, 0));
}
