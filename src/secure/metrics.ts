/**
 * What secure mode reports, as a small interface the agent maps onto its Prometheus registry
 * (secure mode keeps no registry of its own). Identity labels are `namespace/serviceAccount`
 * or `node/<name>`: bounded by the ServiceAccounts and nodes of the mesh, never by what a peer
 * claims (a peer's identity is only reported once its certificate verified).
 */
export type IssuanceOutcome = 'issued' | 'refused' | 'failed';

export type HandshakeOutcome =
  /** mTLS peer verified (chain and SPIFFE ID). */
  | 'accepted'
  /** TLS succeeded but the SPIFFE ID was missing, malformed, of another trust domain or expired. */
  | 'rejected'
  /** A plaintext caller refused (secure destination, not permissive). */
  | 'plaintext-refused'
  /** A plaintext caller let in because the listener is permissive (migration). */
  | 'plaintext-permitted';

export interface SecureMetrics {
  /** A certificate request for `identity` and what became of it. */
  certificateIssuance(identity: string, outcome: IssuanceOutcome): void;
  /** The certificate now held for `identity` expires at `notAfterMs` (epoch ms); null = no longer held. */
  certificateExpiry(identity: string, notAfterMs: number | null): void;
  /** A tunnel stream's authorization decision. */
  authorization(source: string, destination: string, allowed: boolean): void;
  /** A connection to the tunnel port, by how its caller was (or was not) authenticated. */
  tunnelConnection(outcome: HandshakeOutcome): void;
}

export const NO_METRICS: SecureMetrics = {
  certificateIssuance() {},
  certificateExpiry() {},
  authorization() {},
  tunnelConnection() {},
};
