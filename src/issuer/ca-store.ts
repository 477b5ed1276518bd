/**
 * API calls on the CA Secret and the trust-bundle ConfigMap (see ca-objects.ts and ca-bundle.ts
 * for their shape).
 * Used by `plexus prepare` / `cleanup` / `ca rotate|retire` / `secure on` with the user's
 * credentials (the issuer and the agents read through the API access layer: issuer-ca.ts,
 * cluster-credentials.ts).
 *
 * Order of writes during a rotation: roots are published in the ConfigMap before the Secret
 * signs with them, and dropped from it only after the Secret stopped trusting them, so no agent
 * ever meets a certificate from a root it does not trust yet.
 */
import { ApiException, type CoreV1Api, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { CaError, createRootCa, type MeshCa } from '../secure/ca.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLEXUS } from '../kube/labels.js';
import { caFromSecret, caSecretData, CA_SECRET_NAME, newCaSecret, PLEXUS_OWNED } from './ca-objects.js';
import { bundleData, CA_BUNDLE_CONFIGMAP_NAME, CA_BUNDLE_KEY } from '../secure/cluster/ca-bundle.js';

export interface StoredCa {
  readonly ca: MeshCa;
  readonly type: string;
  readonly resourceVersion: string | undefined;
}

const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

async function readOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (isStatus(err, 404)) return null;
    throw err;
  }
}

/** The CA Secret, parsed; null when there is none. Throws CaError when it holds no usable CA. */
export async function readCaSecret(core: CoreV1Api, namespace: string): Promise<StoredCa | null> {
  const secret = await readOrNull(() => core.readNamespacedSecret({ namespace, name: CA_SECRET_NAME }));
  if (secret === null) return null;
  const ca = caFromSecret({ type: secret.type ?? 'Opaque', data: secret.data ?? {} }, `Secret ${namespace}/${CA_SECRET_NAME}`);
  return { ca, type: secret.type ?? 'Opaque', resourceVersion: secret.metadata?.resourceVersion };
}

export interface EnsureResult {
  readonly created: boolean;
  readonly ca: MeshCa;
  /** The ConfigMap was created or corrected. */
  readonly bundleWritten: boolean;
}

/** `plexus prepare`: create the CA Secret when absent (never replace one), then publish its roots. */
export async function ensureCa(core: CoreV1Api, namespace: string, trustDomain: string): Promise<EnsureResult> {
  let stored = await readCaSecret(core, namespace);
  let created = false;
  if (stored === null) {
    const ca = createRootCa(trustDomain);
    try {
      await core.createNamespacedSecret({ namespace, body: newCaSecret(ca, namespace) as V1Secret });
      created = true;
      stored = { ca, type: 'Opaque', resourceVersion: undefined };
    } catch (err) {
      // Another prepare won the race: theirs is the CA.
      if (!isStatus(err, 409)) throw err;
      stored = await readCaSecret(core, namespace);
      if (stored === null) throw err;
    }
  }
  const bundleWritten = await publishBundle(core, namespace, stored.ca);
  return { created, ca: stored.ca, bundleWritten };
}

/** Makes the ConfigMap hold exactly the roots `ca` trusts; true when it wrote. */
export async function publishBundle(core: CoreV1Api, namespace: string, ca: MeshCa): Promise<boolean> {
  const data = bundleData(ca);
  const current = await readOrNull(() => core.readNamespacedConfigMap({ namespace, name: CA_BUNDLE_CONFIGMAP_NAME }));
  if (current === null) {
    const body: V1ConfigMap = { metadata: { name: CA_BUNDLE_CONFIGMAP_NAME, namespace, labels: { ...PLEXUS_OWNED } }, data };
    await core.createNamespacedConfigMap({ namespace, body });
    return true;
  }
  if (current.data?.[CA_BUNDLE_KEY] === data[CA_BUNDLE_KEY]) return false;
  await core.replaceNamespacedConfigMap({ namespace, name: CA_BUNDLE_CONFIGMAP_NAME, body: { ...current, data } });
  return true;
}

/**
 * `plexus ca rotate|retire` in a cluster: store `next` (derived from `stored`); a rotation waits
 * `propagationMs` between publishing the new root and signing with it. The Secret write
 * carries the resourceVersion read, so a concurrent change fails with 409 instead of being lost.
 */
export async function saveCa(core: CoreV1Api, namespace: string, stored: StoredCa, next: MeshCa, propagationMs: number): Promise<void> {
  const writeSecret = async (): Promise<void> => {
    const current = await core.readNamespacedSecret({ namespace, name: CA_SECRET_NAME });
    if (current.metadata?.resourceVersion !== stored.resourceVersion) {
      throw new CaError(`Secret ${namespace}/${CA_SECRET_NAME} changed while this command ran; run it again`);
    }
    await core.replaceNamespacedSecret({ namespace, name: CA_SECRET_NAME, body: { ...current, data: caSecretData(next, stored.type) } });
  };
  const rotating = next.previousCertPem !== null;
  if (rotating) {
    await publishBundle(core, namespace, next);
    // Agents re-read the bundle on a timer: the issuer signs with the new root only once they trust it.
    await new Promise((resolve) => setTimeout(resolve, propagationMs));
    await writeSecret();
  } else {
    await writeSecret();
    await publishBundle(core, namespace, next);
  }
}

export interface CleanupResult {
  readonly deleted: string[];
  /** Objects not made by Plexus (no managed-by label): left in place. */
  readonly kept: string[];
}

/** `plexus cleanup`: delete the CA Secret and the bundle, but only when Plexus made them. */
export async function deleteCa(core: CoreV1Api, namespace: string): Promise<CleanupResult> {
  const result: CleanupResult = { deleted: [], kept: [] };
  const deleteOwned = async (what: string, read: () => Promise<V1Secret | V1ConfigMap>, remove: () => Promise<unknown>): Promise<void> => {
    const object = await readOrNull(read);
    if (object === null) return;
    if (object.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_PLEXUS) {
      await readOrNull(remove);
      result.deleted.push(what);
    } else result.kept.push(what);
  };
  await deleteOwned(`Secret ${namespace}/${CA_SECRET_NAME}`,
    () => core.readNamespacedSecret({ namespace, name: CA_SECRET_NAME }),
    () => core.deleteNamespacedSecret({ namespace, name: CA_SECRET_NAME }));
  await deleteOwned(`ConfigMap ${namespace}/${CA_BUNDLE_CONFIGMAP_NAME}`,
    () => core.readNamespacedConfigMap({ namespace, name: CA_BUNDLE_CONFIGMAP_NAME }),
    () => core.deleteNamespacedConfigMap({ namespace, name: CA_BUNDLE_CONFIGMAP_NAME }));
  return result;
}
