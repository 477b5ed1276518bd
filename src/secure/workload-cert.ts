/**
 * Identity certificates (X509-SVIDs): one per workload identity (`ns/sa`) and one per agent,
 * signed directly by the mesh root, identity in the single URI SAN, key in memory only.
 * `verifyPeer` / `verifyAgent` check a presented certificate against the trust bundle.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { caSigner, type MeshCa } from './ca.js';
import { CLOCK_SKEW_MS, DEFAULT_CERT_LIFETIME_MS } from './defaults.js';
import { issuerSpiffeId, nodeSpiffeId, parseSpiffeId, spiffeIdOfIdentity, uriSans, type SpiffeId } from './spiffe.js';
import { generateKeyPair, issueCertificate } from './x509.js';

export interface IssuedCert {
  /** `ns/sa` for a workload, `node/<name>` for an agent, `issuer` for the cluster issuer. */
  readonly identity: string;
  readonly spiffeId: string;
  readonly certPem: string;
  /** PKCS#8 PEM; lives in this process only, never written anywhere. */
  readonly keyPem: string;
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** Hex; tells one issuance of an identity from the next. */
  readonly serialNumber: string;
}

export interface IssueOptions {
  /** Epoch ms; default `Date.now()`. */
  readonly now?: number;
  readonly lifetimeMs?: number;
}

/** The identity key of an agent's own certificate. */
export function nodeIdentity(nodeName: string): string {
  return `node/${nodeName}`;
}

export function issueWorkloadCert(ca: MeshCa, identity: string, options: IssueOptions = {}): IssuedCert {
  return issue(ca, identity, spiffeIdOfIdentity(ca.trustDomain, identity), options);
}

export function issueNodeCert(ca: MeshCa, nodeName: string, options: IssueOptions = {}): IssuedCert {
  return issue(ca, nodeIdentity(nodeName), nodeSpiffeId(ca.trustDomain, nodeName), options);
}

/** The identity key of the certificate issuer's serving certificate (cluster mode). */
export const ISSUER_IDENTITY = 'issuer';

/** The cluster issuer's serving certificate: agents check it before they send their token. */
export function issueIssuerCert(ca: MeshCa, options: IssueOptions = {}): IssuedCert {
  return issue(ca, ISSUER_IDENTITY, issuerSpiffeId(ca.trustDomain), options);
}

function issue(ca: MeshCa, identity: string, spiffeId: string, options: IssueOptions): IssuedCert {
  const keys = generateKeyPair();
  const signed = sign(ca, identity, spiffeId, keys.publicKey, options);
  return { ...signed, keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A certificate without its key: what the cluster issuer returns for a requester's public key. */
export type SignedCert = Omit<IssuedCert, 'keyPem'>;

/**
 * The cluster issuer: a certificate for `identity` (`ns/sa` or `node/<name>`) on a public key the
 * requesting agent generated, so the private key never leaves that agent.
 */
export function signIdentityCert(ca: MeshCa, identity: string, publicKey: KeyObject, options: IssueOptions = {}): SignedCert {
  const node = /^node\/(.+)$/.exec(identity)?.[1];
  const spiffeId = node === undefined ? spiffeIdOfIdentity(ca.trustDomain, identity) : nodeSpiffeId(ca.trustDomain, node);
  return sign(ca, identity, spiffeId, publicKey, options);
}

function sign(ca: MeshCa, identity: string, spiffeId: string, publicKey: KeyObject, options: IssueOptions): SignedCert {
  const now = options.now ?? Date.now();
  const lifetimeMs = options.lifetimeMs ?? DEFAULT_CERT_LIFETIME_MS;
  if (!(lifetimeMs > 0)) throw new RangeError(`certificate lifetime must be positive, got ${lifetimeMs} ms`);
  // Whole seconds: X.509 times have no milliseconds, and the recorded window must match the certificate.
  const notBefore = Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000;
  const notAfter = Math.floor((now + lifetimeMs) / 1000) * 1000;
  const certPem = issueCertificate({
    organization: ca.trustDomain,
    commonName: identity,
    uris: [spiffeId],
    publicKey,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    isCa: false,
  }, caSigner(ca));
  return { identity, spiffeId, certPem, notBefore, notAfter, serialNumber: new X509Certificate(certPem).serialNumber };
}

export type PeerCertificateInput = X509Certificate | string | Buffer | readonly (string | Buffer)[];

export type TrustBundleInput = readonly (string | X509Certificate)[];

export type PeerVerification =
  | { readonly ok: true; readonly identity: string; readonly spiffeId: SpiffeId }
  | { readonly ok: false; readonly error: string };

/**
 * A workload's certificate (the caller into a tunnel): it must chain to a root of the bundle, be
 * valid at `now` (epoch ms), carry exactly one URI SAN that is a workload SPIFFE ID, and that ID's
 * trust domain must be the signing root's (and `trustDomain`'s, when given).
 * Chains list the leaf first; the roots come from the bundle only, never from the peer.
 */
export function verifyPeer(chain: PeerCertificateInput, bundle: TrustBundleInput, now: number, trustDomain?: string): PeerVerification {
  const verified = verifyChain(chain, bundle, now, trustDomain);
  if (!verified.ok) return verified;
  const { id } = verified;
  if (id.kind !== 'workload') return { ok: false, error: `${describe(id)} is not a workload identity` };
  return { ok: true, identity: `${id.namespace}/${id.serviceAccount}`, spiffeId: id };
}

/** An agent's certificate (a tunnel listener, seen by the caller): must name `nodeName`. */
export function verifyAgent(chain: PeerCertificateInput, bundle: TrustBundleInput, now: number, nodeName: string, trustDomain?: string): PeerVerification {
  const verified = verifyChain(chain, bundle, now, trustDomain);
  if (!verified.ok) return verified;
  const { id } = verified;
  if (id.kind !== 'node' || id.nodeName !== nodeName) {
    return { ok: false, error: `${describe(id)} is not the agent of node ${nodeName}` };
  }
  return { ok: true, identity: nodeIdentity(id.nodeName), spiffeId: id };
}

/** The certificate issuer's serving certificate (seen by an agent before it sends its token). */
export function verifyIssuer(chain: PeerCertificateInput, bundle: TrustBundleInput, now: number, trustDomain?: string): PeerVerification {
  const verified = verifyChain(chain, bundle, now, trustDomain);
  if (!verified.ok) return verified;
  if (verified.id.kind !== 'issuer') return { ok: false, error: `${describe(verified.id)} is not the mesh's certificate issuer` };
  return { ok: true, identity: ISSUER_IDENTITY, spiffeId: verified.id };
}

function verifyChain(chain: PeerCertificateInput, bundle: TrustBundleInput, now: number, trustDomain: string | undefined):
  { ok: true; id: SpiffeId } | { ok: false; error: string } {
  const leaf = leafOf(chain);
  if (leaf === null) return { ok: false, error: 'no peer certificate, or it does not parse' };
  const roots = bundle.map((root) => (typeof root === 'string' ? new X509Certificate(root) : root));
  const root = roots.find((candidate) => leaf.checkIssued(candidate) && leaf.verify(candidate.publicKey));
  if (root === undefined) return { ok: false, error: `certificate "${oneLine(leaf.subject)}" is not signed by a trusted mesh root` };
  if (leaf.ca) return { ok: false, error: 'a CA certificate cannot be a peer identity' };
  const window = validity(leaf);
  if (now < window.from) return { ok: false, error: `certificate not valid before ${new Date(window.from).toISOString()}` };
  if (now > window.to) return { ok: false, error: `certificate expired at ${new Date(window.to).toISOString()}` };
  const rootWindow = validity(root);
  if (now < rootWindow.from || now > rootWindow.to) return { ok: false, error: 'the signing mesh root is not valid now' };
  const uris = uriSans(leaf.subjectAltName);
  if (uris.length !== 1) return { ok: false, error: `expected exactly one URI SAN (a SPIFFE ID), found ${uris.length}` };
  const parsed = parseSpiffeId(uris[0]!);
  if (!parsed.ok) return parsed;
  const rootDomain = uriSans(root.subjectAltName).map((uri) => /^spiffe:\/\/([^/]+)$/.exec(uri)?.[1]).find((td) => td !== undefined);
  const expected = trustDomain ?? rootDomain;
  if (parsed.id.trustDomain !== expected || (rootDomain !== undefined && parsed.id.trustDomain !== rootDomain)) {
    return { ok: false, error: `trust domain "${parsed.id.trustDomain}" is not the mesh's ("${expected ?? rootDomain}")` };
  }
  return { ok: true, id: parsed.id };
}

function leafOf(chain: PeerCertificateInput): X509Certificate | null {
  if (chain instanceof X509Certificate) return chain;
  const first = typeof chain === 'string' || Buffer.isBuffer(chain) ? chain : (chain as readonly (string | Buffer)[])[0];
  if (first === undefined) return null;
  try {
    return new X509Certificate(first);
  } catch {
    return null;
  }
}

function validity(cert: X509Certificate): { from: number; to: number } {
  return { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
}

function describe(id: SpiffeId): string {
  if (id.kind === 'issuer') return 'the issuer ID';
  return id.kind === 'node' ? `agent ID of node ${id.nodeName}` : `workload ID ${id.namespace}/${id.serviceAccount}`;
}

function oneLine(subject: string): string {
  return subject.replaceAll('\n', ', ');
}
