/**
 * SPIFFE IDs of the mesh. A workload is `spiffe://<trust-domain>/ns/<ns>/sa/<sa>` (the form Istio
 * and Linkerd use); an agent presents `spiffe://<trust-domain>/plexus/node/<node>` on its tunnel
 * listener and the certificate issuer `spiffe://<trust-domain>/plexus/issuer` on its endpoint,
 * forms no ServiceAccount can produce, so a workload's key can never pose as either.
 */
export type SpiffeId =
  | { readonly kind: 'workload'; readonly trustDomain: string; readonly namespace: string; readonly serviceAccount: string }
  | { readonly kind: 'node'; readonly trustDomain: string; readonly nodeName: string }
  | { readonly kind: 'issuer'; readonly trustDomain: string };

export type SpiffeParse = { readonly ok: true; readonly id: SpiffeId } | { readonly ok: false; readonly error: string };

/** DNS-1123 label (namespace) or subdomain (ServiceAccount, node name), as Kubernetes allows. */
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** SPIFFE trust domain: lowercase letters, digits, dots, dashes, underscores. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;

export function isValidTrustDomain(trustDomain: string): boolean {
  return TRUST_DOMAIN.test(trustDomain);
}

export function workloadSpiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function nodeSpiffeId(trustDomain: string, nodeName: string): string {
  return `spiffe://${trustDomain}/plexus/node/${nodeName}`;
}

export function issuerSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/plexus/issuer`;
}

/** `ns/sa` → its SPIFFE ID; the identity key format of MeshConfig access rules. */
export function spiffeIdOfIdentity(trustDomain: string, identity: string): string {
  const parsed = parseIdentityKey(identity);
  if (parsed === null) throw new Error(`invalid identity "${identity}": expected namespace/serviceAccount`);
  return workloadSpiffeId(trustDomain, parsed.namespace, parsed.serviceAccount);
}

export function parseIdentityKey(identity: string): { namespace: string; serviceAccount: string } | null {
  const [namespace, serviceAccount, extra] = identity.split('/');
  if (extra !== undefined || namespace === undefined || serviceAccount === undefined) return null;
  if (!LABEL.test(namespace) || !SUBDOMAIN.test(serviceAccount)) return null;
  return { namespace, serviceAccount };
}

export function parseSpiffeId(uri: string): SpiffeParse {
  const match = /^spiffe:\/\/([^/]+)(\/.*)$/.exec(uri);
  if (match === null) return { ok: false, error: `not a SPIFFE ID: "${uri}"` };
  const [, trustDomain, path] = match as unknown as [string, string, string];
  if (!TRUST_DOMAIN.test(trustDomain)) return { ok: false, error: `invalid trust domain in "${uri}"` };
  const segments = path.slice(1).split('/');
  if (segments.length === 4 && segments[0] === 'ns' && segments[2] === 'sa') {
    const [, namespace, , serviceAccount] = segments as [string, string, string, string];
    if (LABEL.test(namespace) && SUBDOMAIN.test(serviceAccount)) {
      return { ok: true, id: { kind: 'workload', trustDomain, namespace, serviceAccount } };
    }
  }
  if (segments.length === 3 && segments[0] === 'plexus' && segments[1] === 'node' && SUBDOMAIN.test(segments[2]!)) {
    return { ok: true, id: { kind: 'node', trustDomain, nodeName: segments[2]! } };
  }
  if (segments.length === 2 && segments[0] === 'plexus' && segments[1] === 'issuer') return { ok: true, id: { kind: 'issuer', trustDomain } };
  return { ok: false, error: `SPIFFE ID "${uri}" is neither spiffe://<td>/ns/<ns>/sa/<sa> nor an agent's or the issuer's ID` };
}

/**
 * The URI SANs of a certificate, from Node's `X509Certificate.subjectAltName` text
 * (`URI:spiffe://..., DNS:...`). Node escapes entries holding a comma or quote as JSON strings;
 * a SPIFFE ID never holds either, so such entries are kept as written and fail to parse later.
 */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  return subjectAltName.split(', ').filter((entry) => entry.startsWith('URI:')).map((entry) => entry.slice(4));
}
