/**
 * Own names (own-names.ts) against the API: the hosts file in ConfigMap
 * `kube-system/plexus-own-names` (shipped empty by the manifests), mounted into the CoreDNS pods once (a volume and a read-only
 * mount on its container, one rollout), and the `hosts` region in the Corefile (saved original
 * and rollout as for the mesh block). A Service opting in or out afterwards rewrites only the
 * ConfigMap. Nothing is touched while no Service opts in and nothing was set up before.
 * Clusters whose Corefile Plexus extends through `coredns-custom` (AKS, k3s) are refused: the
 * `hosts` line must sit in the managed block of the cluster domain.
 */
import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import {
  ClusterDnsError, COREFILE_HASH_ANNOTATION, DNS_NAMESPACE, ORIGINAL_COREFILE_ANNOTATION, clientsOf, editConfigMap, findClusterDns, hashOf,
  readConfigMapOrNull, requireCoreDns, useCustom, type Clients, type CoreDns, type DnsChange,
} from './coredns-api.js';
import { clusterDomainOf } from './corefile-inspect.js';
import { findRegions } from './corefile-markers.js';
import { unpatchCorefile } from './corefile.js';
import { OWN_NAMES_CONFIGMAP, OWN_NAMES_KEY, OWN_NAMES_MOUNT, OWN_NAMES_VOLUME, patchOwnNames, renderOwnNamesHosts, type OwnName } from './own-names.js';

const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface OwnNamesOptions {
  readonly meshDomain: string;
  /** The meshed Services that opt in, with their shadow ClusterIPs. */
  readonly names: readonly OwnName[];
}

const TARGET = `ConfigMap ${DNS_NAMESPACE}/${OWN_NAMES_CONFIGMAP}`;

/** Makes the own names of `names` resolve to their shadow Services. Idempotent. */
export async function prepareOwnNames(kc: KubeConfig, opts: OwnNamesOptions): Promise<DnsChange> {
  const clients = clientsOf(kc);
  const dns = await requireCoreDns(kc);
  const cm = await readConfigMapOrNull(clients.core, dns.configMap);
  const corefile = cm?.data?.[dns.corefileKey] ?? '';
  const active = findRegions(corefile).some((r) => r.kind === 'own-names' && r.meshDomain === opts.meshDomain);
  if (opts.names.length === 0 && !active) return { target: TARGET, changed: false, rolled: false, found: true, warnings: [] };
  if (await useCustom(clients.core, dns, corefile)) {
    throw new ClusterDnsError(`CoreDNS is extended through ConfigMap ${DNS_NAMESPACE}/${dns.customConfigMap}: own names (plexus.dev/own-names) need the managed Corefile and are not served`);
  }
  const clusterDomain = clusterDomainOf(unpatchCorefile(corefile).corefile) ?? DEFAULT_CLUSTER_DOMAIN;
  const hostsChanged = await writeHosts(clients, renderOwnNamesHosts(opts.names, clusterDomain));
  let written = '';
  const corefileChanged = await editConfigMap(clients.core, dns.configMap, (current) => {
    const text = current.data?.[dns.corefileKey] ?? '';
    const edit = patchOwnNames(text, opts.meshDomain, clusterDomain);
    written = edit.corefile;
    if (!edit.changed) return null;
    const annotations: Record<string, string> = { ...current.metadata?.annotations };
    annotations[ORIGINAL_COREFILE_ANNOTATION] ??= unpatchCorefile(text).corefile;
    return { ...current, metadata: { ...current.metadata, annotations }, data: { ...current.data, [dns.corefileKey]: edit.corefile } };
  });
  const rolled = corefileChanged || !dns.ownNamesMounted;
  if (rolled) await mountAndRoll(clients, dns, corefileChanged ? hashOf(written) : null);
  return { target: TARGET, changed: hostsChanged || rolled, rolled, found: true, warnings: [] };
}

/** Updates the hosts ConfigMap (shipped empty by manifests/35-own-names.yaml); true when it was written. */
async function writeHosts(clients: Clients, hosts: string): Promise<boolean> {
  if ((await readConfigMapOrNull(clients.core, OWN_NAMES_CONFIGMAP)) === null) {
    throw new ClusterDnsError(`${TARGET} does not exist: apply manifests/35-own-names.yaml (own names need it)`);
  }
  return editConfigMap(clients.core, OWN_NAMES_CONFIGMAP, (cm) => (cm.data?.[OWN_NAMES_KEY] === hosts ? null : { ...cm, data: { ...cm.data, [OWN_NAMES_KEY]: hosts } }));
}

/**
 * One strategic merge patch: the hosts volume (optional, so CoreDNS starts even without the
 * ConfigMap), its read-only mount, and the pod-template hash when the Corefile changed.
 */
async function mountAndRoll(clients: Clients, dns: CoreDns, hash: string | null): Promise<void> {
  const template = {
    ...(hash === null ? {} : { metadata: { annotations: { [COREFILE_HASH_ANNOTATION]: hash } } }),
    spec: {
      volumes: [{ name: OWN_NAMES_VOLUME, configMap: { name: OWN_NAMES_CONFIGMAP, optional: true } }],
      containers: [{ name: dns.container, volumeMounts: [{ name: OWN_NAMES_VOLUME, mountPath: OWN_NAMES_MOUNT, readOnly: true }] }],
    },
  };
  await clients.apps.patchNamespacedDeployment(
    { namespace: DNS_NAMESPACE, name: dns.deployment, body: { spec: { template } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

/**
 * `plexus cleanup`, after the Corefile was restored (cleanupCoreDns removes the region): the
 * mount and volume leave the CoreDNS Deployment (one rollout). The ConfigMap belongs to the
 * manifests (`kubectl delete -f manifests/` removes it).
 */
export async function cleanupOwnNames(kc: KubeConfig): Promise<DnsChange> {
  const dns = await findClusterDns(kc);
  if (dns.kind !== 'coredns' || !dns.ownNamesMounted) return { target: TARGET, changed: false, rolled: false, found: dns.kind === 'coredns', warnings: [] };
  const template = {
    spec: {
      volumes: [{ name: OWN_NAMES_VOLUME, $patch: 'delete' }],
      containers: [{ name: dns.container, volumeMounts: [{ mountPath: OWN_NAMES_MOUNT, $patch: 'delete' }] }],
    },
  };
  await clientsOf(kc).apps.patchNamespacedDeployment(
    { namespace: DNS_NAMESPACE, name: dns.deployment, body: { spec: { template } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  return { target: `CoreDNS ${DNS_NAMESPACE}/${dns.deployment}`, changed: true, rolled: true, found: true, warnings: [] };
}
