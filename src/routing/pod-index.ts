/** Pods by key, by IP (running pods only) and by namespace: what endpoint resolution looks up. */
import type { PodInfo } from './kube/types.js';

export class PodIndex {
  readonly byIp = new Map<string, PodInfo>();
  readonly byNamespace = new Map<string, PodInfo[]>();

  constructor(readonly byKey: ReadonlyMap<string, PodInfo>) {
    for (const pod of byKey.values()) {
      const list = this.byNamespace.get(pod.id.namespace);
      if (list) list.push(pod);
      else this.byNamespace.set(pod.id.namespace, [pod]);
      // A finished pod's IP may already belong to another pod.
      if (!pod.running) continue;
      for (const ip of pod.ips) this.byIp.set(ip, pod);
    }
  }
}
