/**
 * The CoreDNS patch against the API: find CoreDNS, patch its Corefile (or AKS's
 * `coredns-custom`), keep the original for an exact restore, survive conflicting writers, and
 * roll CoreDNS by a pod-template annotation only when its configuration changed.
 *
 * The original Corefile is saved as an annotation on the CoreDNS ConfigMap itself, in the same
 * write as the first patch: the backup exists exactly when a patch does, and it survives the
 * deletion of the mesh namespace (`kubectl delete -f manifests/` before `plexus cleanup`).
 */
import { createHash } from 'node:crypto';
import { ApiException, AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import { MarkerError, patchCorefile, unpatchCorefile, parseCoreDnsVersion, type MeshDnsOptions, type ServiceRef } from './corefile.js';
import { findRegions } from './corefile-markers.js';
import { patchCustomConfigMap, plexusCustomKeys } from './corefile-custom.js';
import { clusterDomainOf, importsServerFiles, rootServerPort } from './corefile-inspect.js';
import { locateClusterDns, type ClusterDns } from './coredns-locate.js';
import { typedClient } from '../kube/typed-client.js';

export const DNS_NAMESPACE = 'kube-system';
export const ORIGINAL_COREFILE_ANNOTATION = 'plexus.dev/original-corefile';
export const COREFILE_HASH_ANNOTATION = 'plexus.dev/corefile-hash';
const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
const MAX_ATTEMPTS = 5;

export type CoreDns = Extract<ClusterDns, { kind: 'coredns' }>;

export interface DnsOptions {
  readonly meshDomain: string;
  /** The mesh namespace (where the shadow Services live). */
  readonly namespace: string;
  /** Default: the zone of the Corefile's `kubernetes` plugin, else cluster.local. */
  readonly clusterDomain?: string;
  /** Meshed Services; the ones with hashed shadow names get their own rule. */
  readonly services?: readonly ServiceRef[];
}

export interface DnsChange {
  /** What was edited, e.g. `ConfigMap kube-system/coredns (Corefile)`. */
  readonly target: string;
  /** True when the DNS configuration was written. */
  readonly changed: boolean;
  /** True when CoreDNS was rolled. */
  readonly rolled: boolean;
  /** False when no CoreDNS was found (cleanup only: KubeDNS, or none Plexus recognises). */
  readonly found: boolean;
  readonly warnings: readonly string[];
}

/** No supported cluster DNS, or a configuration Plexus will not touch. */
export class ClusterDnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterDnsError';
  }
}

export interface Clients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

export const clientsOf = (kc: KubeConfig): Clients => ({ core: typedClient(kc, CoreV1Api), apps: typedClient(kc, AppsV1Api) });

export const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

/** Finds the cluster DNS Deployment and the ConfigMap of its Corefile. */
export async function findClusterDns(kc: KubeConfig): Promise<ClusterDns> {
  const { apps } = clientsOf(kc);
  const labelled = await apps.listNamespacedDeployment({ namespace: DNS_NAMESPACE, labelSelector: 'k8s-app=kube-dns' });
  const deployments: V1Deployment[] = [...labelled.items];
  if (!deployments.some((d) => d.metadata?.name === 'coredns')) {
    try {
      deployments.push(await apps.readNamespacedDeployment({ namespace: DNS_NAMESPACE, name: 'coredns' }));
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 403)) throw err;
    }
  }
  return locateClusterDns(deployments);
}

export async function requireCoreDns(kc: KubeConfig): Promise<CoreDns> {
  const dns = await findClusterDns(kc);
  if (dns.kind === 'kube-dns') {
    throw new ClusterDnsError(`Deployment ${DNS_NAMESPACE}/${dns.deployment} runs KubeDNS, which Plexus does not support: it needs CoreDNS 1.3 or later as cluster DNS`);
  }
  if (dns.kind === 'unknown') throw new ClusterDnsError(`cluster DNS not found: ${dns.reason}`);
  return dns;
}

export async function readConfigMapOrNull(core: CoreV1Api, name: string): Promise<V1ConfigMap | null> {
  try {
    return await core.readNamespacedConfigMap({ namespace: DNS_NAMESPACE, name });
  } catch (err) {
    if (isStatus(err, 404)) return null;
    throw err;
  }
}

/**
 * Read, edit, write with the read resourceVersion; on a 409 conflict read again and retry.
 * `edit` returns the new ConfigMap, or null when nothing needs writing.
 */
export async function editConfigMap(core: CoreV1Api, name: string, edit: (cm: V1ConfigMap) => V1ConfigMap | null): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const current = await readConfigMapOrNull(core, name);
    if (!current) throw new ClusterDnsError(`ConfigMap ${DNS_NAMESPACE}/${name} does not exist`);
    const next = edit(current);
    if (!next) return false;
    try {
      await core.replaceNamespacedConfigMap({ namespace: DNS_NAMESPACE, name, body: next });
      return true;
    } catch (err) {
      if (!isStatus(err, 409) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** Which configuration Plexus edits: AKS/k3s `coredns-custom` when it is imported and exists. */
export async function useCustom(core: CoreV1Api, dns: CoreDns, corefile: string): Promise<string | null> {
  if (!dns.customConfigMap || !importsServerFiles(corefile)) return null;
  return (await readConfigMapOrNull(core, dns.customConfigMap)) ? dns.customConfigMap : null;
}

export async function readCorefile(core: CoreV1Api, dns: CoreDns): Promise<string> {
  const cm = await readConfigMapOrNull(core, dns.configMap);
  const corefile = cm?.data?.[dns.corefileKey];
  if (corefile === undefined) throw new ClusterDnsError(`ConfigMap ${DNS_NAMESPACE}/${dns.configMap} has no key ${dns.corefileKey}`);
  return corefile;
}

export const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Restarts CoreDNS pods gradually, through the Deployment's rolling update. */
export async function roll(apps: AppsV1Api, deployment: string, hash: string | null): Promise<void> {
  const body = { spec: { template: { metadata: { annotations: { [COREFILE_HASH_ANNOTATION]: hash } } } } };
  await apps.patchNamespacedDeployment({ namespace: DNS_NAMESPACE, name: deployment, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

function patchOptionsFor(dns: CoreDns, corefile: string, opts: DnsOptions): MeshDnsOptions {
  const userCorefile = unpatchCorefile(corefile).corefile;
  // Also for coredns-custom: its blocks listen beside the managed Corefile's root block.
  const port = rootServerPort(userCorefile);
  return {
    meshDomain: opts.meshDomain,
    namespace: opts.namespace,
    clusterDomain: opts.clusterDomain ?? clusterDomainOf(userCorefile) ?? DEFAULT_CLUSTER_DOMAIN,
    ...(port === null ? {} : { port }),
    version: parseCoreDnsVersion(dns.image).version,
    services: opts.services ?? [],
  };
}

const versionWarnings = (dns: CoreDns): string[] => {
  const { warning } = parseCoreDnsVersion(dns.image);
  return warning ? [warning] : [];
};

/** Adds or refreshes the mesh block. A second run with the same inputs writes and restarts nothing. */
export async function prepareCoreDns(kc: KubeConfig, opts: DnsOptions): Promise<DnsChange> {
  const { core, apps } = clientsOf(kc);
  const dns = await requireCoreDns(kc);
  const corefile = await readCorefile(core, dns);
  const patchOptions = patchOptionsFor(dns, corefile, opts);
  const custom = await useCustom(core, dns, corefile);
  // Set by the edit that was finally written (edits re-run after a conflict).
  let written = '';
  let configChanged = false;
  let target: string;
  if (custom) {
    target = `ConfigMap ${DNS_NAMESPACE}/${custom}`;
    await editConfigMap(core, custom, (cm) => {
      const edit = patchCustomConfigMap(cm.data ?? {}, patchOptions);
      written = edit.value;
      configChanged = edit.changed;
      return edit.changed ? { ...cm, data: { ...cm.data, [edit.key]: edit.value } } : null;
    });
  } else {
    target = `ConfigMap ${DNS_NAMESPACE}/${dns.configMap} (${dns.corefileKey})`;
    await editConfigMap(core, dns.configMap, (cm) => {
      const current = cm.data?.[dns.corefileKey] ?? '';
      const edit = patchCorefile(current, patchOptions);
      const annotations: Record<string, string> = { ...cm.metadata?.annotations };
      const hasBackup = ORIGINAL_COREFILE_ANNOTATION in annotations;
      written = edit.corefile;
      configChanged = edit.changed;
      if (!edit.changed && hasBackup) return null;
      if (!hasBackup) annotations[ORIGINAL_COREFILE_ANNOTATION] = unpatchCorefile(current).corefile;
      return { ...cm, metadata: { ...cm.metadata, annotations }, data: { ...cm.data, [dns.corefileKey]: edit.corefile } };
    });
  }
  if (configChanged) await roll(apps, dns.deployment, hashOf(written));
  return { target, changed: configChanged, rolled: configChanged, found: true, warnings: versionWarnings(dns) };
}

/**
 * Removes the mesh block of `meshDomain` (all Plexus blocks when undefined), the backup, and the
 * pod-template annotation Plexus rolls CoreDNS with (which rolls it once more). Needs no CoreDNS
 * version. When the markers were damaged by hand, the saved original is restored instead (edits made since are then lost, and
 * a warning says so).
 */
export async function cleanupCoreDns(kc: KubeConfig, meshDomain?: string): Promise<DnsChange> {
  const { core, apps } = clientsOf(kc);
  const dns = await findClusterDns(kc);
  if (dns.kind !== 'coredns') {
    return { target: 'cluster DNS', changed: false, rolled: false, found: false, warnings: [dns.kind === 'kube-dns' ? 'KubeDNS: no CoreDNS configuration to restore' : dns.reason] };
  }
  const warnings: string[] = [];
  let customChanged = false;
  if (dns.customConfigMap && (await readConfigMapOrNull(core, dns.customConfigMap))) {
    customChanged = await editConfigMap(core, dns.customConfigMap, (cm) => {
      const keys = plexusCustomKeys(cm.data ?? {}, meshDomain);
      if (keys.length === 0) return null;
      const data = { ...cm.data };
      for (const key of keys) delete data[key];
      return { ...cm, data };
    });
  }
  let corefileChanged = false;
  await editConfigMap(core, dns.configMap, (cm) => {
    warnings.length = 0;
    const current = cm.data?.[dns.corefileKey];
    const annotations: Record<string, string> = { ...cm.metadata?.annotations };
    const backup = annotations[ORIGINAL_COREFILE_ANNOTATION];
    let restored = current;
    if (current !== undefined) {
      try {
        restored = unpatchCorefile(current, meshDomain).corefile;
      } catch (err) {
        if (!(err instanceof MarkerError) || backup === undefined) throw err;
        warnings.push(`${err.message}; restored the Corefile saved before the first patch`);
        restored = backup;
      }
    }
    if (restored === undefined || findRegions(restored).length === 0) delete annotations[ORIGINAL_COREFILE_ANNOTATION];
    corefileChanged = restored !== current;
    if (!corefileChanged && backup === annotations[ORIGINAL_COREFILE_ANNOTATION]) return null;
    const data = restored === undefined ? cm.data : { ...cm.data, [dns.corefileKey]: restored };
    return { ...cm, metadata: { ...cm.metadata, annotations }, ...(data ? { data } : {}) };
  });
  const configChanged = customChanged || corefileChanged;
  // Removing the annotation is what rolls CoreDNS; it is removed even when an earlier cleanup
  // restored the configuration but failed to roll. Without it (the Deployment was re-applied
  // since), CoreDNS's `reload` plugin picks the restored configuration up.
  const deployment = await apps.readNamespacedDeployment({ namespace: DNS_NAMESPACE, name: dns.deployment });
  const annotated = COREFILE_HASH_ANNOTATION in (deployment.spec?.template.metadata?.annotations ?? {});
  if (annotated) await roll(apps, dns.deployment, null);
  return { target: `CoreDNS ${DNS_NAMESPACE}/${dns.deployment}`, changed: configChanged, rolled: annotated, found: true, warnings };
}

export type DnsState = 'current' | 'outdated' | 'missing';

/** Whether the mesh block is present, and whether it is what `prepareCoreDns` would write. */
export async function inspectCoreDns(kc: KubeConfig, opts: DnsOptions): Promise<{ state: DnsState; target: string; warnings: readonly string[] }> {
  const { core } = clientsOf(kc);
  const dns = await requireCoreDns(kc);
  const corefile = await readCorefile(core, dns);
  const patchOptions = patchOptionsFor(dns, corefile, opts);
  const warnings = versionWarnings(dns);
  const custom = await useCustom(core, dns, corefile);
  if (custom) {
    const data = (await readConfigMapOrNull(core, custom))?.data ?? {};
    const edit = patchCustomConfigMap(data, patchOptions);
    const state: DnsState = !edit.changed ? 'current' : edit.key in data ? 'outdated' : 'missing';
    return { state, target: `ConfigMap ${DNS_NAMESPACE}/${custom}`, warnings };
  }
  const present = findRegions(corefile).some((r) => r.kind === 'mesh-domain' && r.meshDomain === opts.meshDomain);
  const state: DnsState = !patchCorefile(corefile, patchOptions).changed ? 'current' : present ? 'outdated' : 'missing';
  return { state, target: `ConfigMap ${DNS_NAMESPACE}/${dns.configMap} (${dns.corefileKey})`, warnings };
}
