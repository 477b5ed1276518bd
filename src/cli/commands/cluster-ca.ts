/**
 * The CA steps of `plexus prepare`, `plexus cleanup` and `plexus ca rotate|retire` in a cluster:
 * each returns the lines the command prints. Errors are the API's (the commands describe them).
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CaError, retireRoot, rotateRoot, type MeshCa } from '../../secure/ca.js';
import { CA_SECRET_NAME } from '../../issuer/ca-objects.js';
import { CA_BUNDLE_CONFIGMAP_NAME } from '../../secure/cluster/ca-bundle.js';
import { deleteCa, ensureCa, readCaSecret, saveCa } from '../../issuer/ca-store.js';
import { typedClient } from '../../kube/typed-client.js';

function describeRoot(ca: MeshCa): string {
  return `root "${ca.cert.subject.replaceAll('\n', ', ')}" valid until ${new Date(ca.cert.validTo).toISOString()}`;
}

export async function prepareCa(kc: KubeConfig, namespace: string, trustDomain: string): Promise<string[]> {
  const result = await ensureCa(typedClient(kc, CoreV1Api), namespace, trustDomain);
  const lines = [result.created
    ? `mesh CA: created Secret ${namespace}/${CA_SECRET_NAME} (trust domain ${result.ca.trustDomain}, ${describeRoot(result.ca)})`
    : `mesh CA: Secret ${namespace}/${CA_SECRET_NAME} exists (trust domain ${result.ca.trustDomain}); left as it is`];
  if (result.bundleWritten) lines.push(`mesh CA: published its roots in ConfigMap ${namespace}/${CA_BUNDLE_CONFIGMAP_NAME}`);
  if (!result.created && result.ca.trustDomain !== trustDomain) {
    lines.push(`warning: the CA's trust domain is ${result.ca.trustDomain}, not ${trustDomain}: run the agents with --trust-domain ${result.ca.trustDomain}`);
  }
  return lines;
}

export async function cleanupCa(kc: KubeConfig, namespace: string): Promise<string[]> {
  const result = await deleteCa(typedClient(kc, CoreV1Api), namespace);
  const lines = result.deleted.map((name) => `mesh CA: deleted ${name}`);
  for (const name of result.kept) lines.push(`mesh CA: kept ${name} (not made by Plexus: no app.kubernetes.io/managed-by=plexus label)`);
  if (lines.length === 0) lines.push('mesh CA: none left');
  return lines;
}

export interface ClusterCaChange {
  readonly action: 'rotate' | 'retire';
  readonly force: boolean;
  /** rotate: how long agents get to trust the new root before the leader signs with it. */
  readonly propagationMs: number;
}

export async function changeClusterCa(kc: KubeConfig, namespace: string, change: ClusterCaChange): Promise<string> {
  const core = typedClient(kc, CoreV1Api);
  const stored = await readCaSecret(core, namespace);
  if (stored === null) throw new CaError(`no Secret ${namespace}/${CA_SECRET_NAME}: create the CA with plexus prepare`);
  const next = change.action === 'rotate' ? rotateRoot(stored.ca) : retireRoot(stored.ca, { force: change.force });
  await saveCa(core, namespace, stored, next, change.propagationMs);
  return change.action === 'rotate'
    ? `new signing ${describeRoot(next)} in Secret ${namespace}/${CA_SECRET_NAME}; the old root stays trusted until 'plexus ca retire'\n`
    : `retired the old root; only the ${describeRoot(next)} is trusted now\n`;
}
