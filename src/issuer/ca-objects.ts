/**
 * The mesh CA in a cluster: the Secret `plexus-ca` (signing root, its key, and during a rotation
 * the old root) that only the issuer reads (the ConfigMap `plexus-ca-bundle` holding the public
 * roots every agent trusts is in ca-bundle.ts). Pure conversions here; `ca-store.ts` does the
 * API calls.
 *
 * Secret keys, by type:
 * - `Opaque` (what `plexus prepare` creates): `ca.crt`, `ca.key`, `ca-previous.crt` (the same
 *   file set as a local CA folder);
 * - `kubernetes.io/tls` (a CA you bring, e.g. from cert-manager): `tls.crt` and `tls.key` are the
 *   signing root, `ca-previous.crt` the old root during a rotation.
 */
import { caFromFiles, caToFiles, CA_FILES, type MeshCa } from '../secure/ca.js';
import { MANAGED_BY_LABEL, MANAGED_BY_PLEXUS } from '../kube/labels.js';

export const CA_SECRET_NAME = 'plexus-ca';

export type CaSecretType = 'Opaque' | 'kubernetes.io/tls';

const TLS_KEYS: Readonly<Record<string, string>> = { [CA_FILES.cert]: 'tls.crt', [CA_FILES.key]: 'tls.key', [CA_FILES.previousCert]: CA_FILES.previousCert };

/** The part of a Secret the CA lives in (as the API returns it: data base64-encoded). */
export interface CaSecretData {
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

function keyOf(type: string, file: string): string {
  return type === 'kubernetes.io/tls' ? TLS_KEYS[file]! : file;
}

export function caFromSecret(secret: CaSecretData, source: string): MeshCa {
  const files: Record<string, string | undefined> = {};
  for (const file of Object.values(CA_FILES)) {
    const encoded = secret.data[keyOf(secret.type, file)];
    files[file] = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  }
  return caFromFiles(files, source);
}

/** The Secret's `data` for `ca`, keyed for `type` (base64, as the API stores it). */
export function caSecretData(ca: MeshCa, type: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [file, content] of Object.entries(caToFiles(ca))) data[keyOf(type, file)] = Buffer.from(content).toString('base64');
  return data;
}

export const PLEXUS_OWNED = { [MANAGED_BY_LABEL]: MANAGED_BY_PLEXUS } as const;

/** A new Opaque CA Secret, labelled as Plexus's so `plexus cleanup` may delete it. */
export function newCaSecret(ca: MeshCa, namespace: string): { metadata: object; type: CaSecretType; data: Record<string, string> } {
  return { metadata: { name: CA_SECRET_NAME, namespace, labels: { ...PLEXUS_OWNED } }, type: 'Opaque', data: caSecretData(ca, 'Opaque') };
}
