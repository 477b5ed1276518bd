/** Defaults of secure mode; DESIGN.md §1 fixes the user-facing ones. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_TUNNEL_PORT = 15008;
/** The leader's certificate issuer in a cluster (Istio's istiod serves its CA on 15012 too). */
export const DEFAULT_ISSUER_PORT = 15012;
/** Workload and agent certificates live 24 h (as Linkerd's and ztunnel's do). */
export const DEFAULT_CERT_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Renew once this fraction of a certificate's lifetime has passed. */
export const RENEW_AT_FRACTION = 0.5;
/** A mesh root lives 10 years; rotation replaces it long before. */
export const ROOT_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;
/** Certificates are valid from slightly in the past, so peers with a skewed clock accept them. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
