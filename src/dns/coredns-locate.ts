/**
 * Which Deployment is the cluster DNS, and which ConfigMap holds its Corefile: read from the
 * Deployment's own spec (the `-conf` argument and the volume mounted there), never assumed from
 * a fixed name. Pure: works on objects already read.
 */
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { posix } from 'node:path';
import { OWN_NAMES_VOLUME } from './own-names.js';

export type ClusterDns =
  | {
    readonly kind: 'coredns'; readonly deployment: string; readonly image: string; readonly configMap: string; readonly corefileKey: string;
    readonly customConfigMap?: string;
    /** The CoreDNS container's name (own names mount their hosts file into it). */
    readonly container: string;
    /** The own-names hosts file is mounted (coredns-own-names.ts). */
    readonly ownNamesMounted: boolean;
  }
  | { readonly kind: 'kube-dns'; readonly deployment: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/** The ConfigMap AKS and k3s import `*.server` / `*.override` files from. */
export const CUSTOM_CONFIGMAP = 'coredns-custom';

const DEFAULT_CONF = '/etc/coredns/Corefile';

const corednsContainer = (d: V1Deployment): V1Container | undefined =>
  d.spec?.template.spec?.containers.find((c) => c.name === 'coredns' || /(^|[/-])coredns(:|@|$)/.test(c.image ?? ''));

const isKubeDns = (d: V1Deployment): boolean =>
  (d.spec?.template.spec?.containers ?? []).some((c) => c.name === 'kubedns' || /k8s-dns-kube-dns/.test(c.image ?? ''));

/** From the Deployments labelled `k8s-app=kube-dns` (plus `coredns` if read by name). */
export function locateClusterDns(deployments: readonly V1Deployment[]): ClusterDns {
  const coredns = deployments.filter((d) => corednsContainer(d) !== undefined);
  const chosen = coredns.length === 1 ? coredns[0] : coredns.find((d) => d.metadata?.name === 'coredns');
  if (!chosen) {
    if (coredns.length > 1) {
      return { kind: 'unknown', reason: `several CoreDNS Deployments (${coredns.map((d) => d.metadata?.name).join(', ')}) and none is named coredns` };
    }
    const kubeDns = deployments.find(isKubeDns);
    if (kubeDns) return { kind: 'kube-dns', deployment: kubeDns.metadata?.name ?? 'kube-dns' };
    return { kind: 'unknown', reason: 'no CoreDNS Deployment labelled k8s-app=kube-dns or named coredns in kube-system' };
  }
  const name = chosen.metadata?.name ?? 'coredns';
  const container = corednsContainer(chosen) as V1Container;
  const args = container.args ?? [];
  const confIndex = args.findIndex((a) => a === '-conf' || a === '--conf');
  const inline = args.find((a) => /^--?conf=/.test(a));
  const confPath = inline ? inline.replace(/^--?conf=/, '') : confIndex >= 0 ? args[confIndex + 1] ?? DEFAULT_CONF : DEFAULT_CONF;
  const mounts = [...(container.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mount = mounts.find((m) => confPath === m.mountPath || confPath.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  const volumes = chosen.spec?.template.spec?.volumes ?? [];
  const volume = mount && volumes.find((v) => v.name === mount.name);
  if (!mount || !volume?.configMap?.name) {
    return { kind: 'unknown', reason: `Deployment kube-system/${name}: no ConfigMap volume is mounted at its Corefile ${confPath}` };
  }
  const relative = confPath === mount.mountPath ? posix.basename(confPath) : posix.relative(mount.mountPath, confPath);
  const corefileKey = volume.configMap.items?.find((item) => item.path === relative)?.key ?? relative;
  const custom = volumes.find((v) => v.configMap?.name === CUSTOM_CONFIGMAP && v.name !== volume.name);
  return {
    kind: 'coredns',
    deployment: name,
    image: container.image ?? '',
    configMap: volume.configMap.name,
    corefileKey,
    ...(custom ? { customConfigMap: CUSTOM_CONFIGMAP } : {}),
    container: container.name,
    ownNamesMounted: volumes.some((v) => v.name === OWN_NAMES_VOLUME) && (container.volumeMounts ?? []).some((m) => m.name === OWN_NAMES_VOLUME),
  };
}
