/**
 * What `plexus check` says about secure mode: certificates close to expiry (renewal is failing)
 * and a mesh root near its end (rotate it). Pure: the caller passes what the agent holds.
 */
import type { MeshCa } from './ca.js';
import type { IssuedCert } from './workload-cert.js';

export interface SecureFinding {
  readonly severity: 'warning' | 'error';
  readonly message: string;
}

/** A root this close to its end should be rotated (and the old one retired a day later). */
export const ROOT_WARNING_MS = 365 * 24 * 60 * 60 * 1000;
/** A certificate with less than this fraction of its lifetime left missed its renewals. */
export const CERT_WARNING_FRACTION = 0.25;

/** The signing root and, during a rotation, the old one. */
export type TrustedRoots = Pick<MeshCa, 'cert' | 'previousCert'>;

export function secureFindings(ca: TrustedRoots, certs: readonly IssuedCert[], now: number): SecureFinding[] {
  const findings: SecureFinding[] = [];
  for (const [label, root] of [['mesh root', ca.cert], ['old mesh root', ca.previousCert]] as const) {
    if (root === null) continue;
    const end = Date.parse(root.validTo);
    if (now >= end) findings.push({ severity: 'error', message: `the ${label} expired at ${new Date(end).toISOString()}` });
    else if (label === 'mesh root' && end - now < ROOT_WARNING_MS) {
      findings.push({ severity: 'warning', message: `the mesh root expires at ${new Date(end).toISOString()}: run plexus ca rotate` });
    }
  }
  for (const cert of certs) {
    const left = cert.notAfter - now;
    if (left <= 0) {
      findings.push({ severity: 'error', message: `the certificate of ${cert.identity} expired at ${new Date(cert.notAfter).toISOString()}` });
    } else if (left < (cert.notAfter - cert.notBefore) * CERT_WARNING_FRACTION) {
      findings.push({ severity: 'warning', message: `the certificate of ${cert.identity} expires at ${new Date(cert.notAfter).toISOString()} and was not renewed` });
    }
  }
  return findings;
}
