/**
 * The ConfigMap `plexus-ca-bundle`: the public roots every agent trusts (the signing root first,
 * then the one being retired during a rotation). The issuer side writes it (ca-store.ts); each
 * agent reads it (cluster-credentials.ts).
 */
import { trustBundle, type MeshCa } from '../ca.js';

export const CA_BUNDLE_CONFIGMAP_NAME = 'plexus-ca-bundle';
/** The ConfigMap key: every trusted root, PEM, the signing one first. */
export const CA_BUNDLE_KEY = 'ca.crt';

/** The ConfigMap's content: the trust bundle, signing root first. */
export function bundleData(ca: MeshCa): Record<string, string> {
  return { [CA_BUNDLE_KEY]: trustBundle(ca).map((pem) => pem.trim()).join('\n') + '\n' };
}

/** The PEM roots in a bundle ConfigMap's `ca.crt`. */
export function rootsFromBundle(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((match) => `${match[0]}\n`);
}
