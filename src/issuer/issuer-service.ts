/**
 * The issuer's decision on a certificate request (no HTTP here, see issuer-server.ts):
 * TokenReview → the agent pod the token is bound to → its node → `authorizeIssuance` per
 * requested identity against the pods scheduled on that node right now (listed fresh, not from
 * a cache) → sign the requester's public keys. Every refusal is logged and counted.
 */
import type { Logger } from 'pino';
import type { MeshCa } from '../secure/ca.js';
import { authorizeIssuance, type PodPlacement } from '../secure/issuer.js';
import { signIdentityCert } from '../secure/workload-cert.js';
import { requesterNode, tokenClaims, type AgentAccount, type AgentPod, type TokenReviewStatus } from './agent-token.js';
import type { IdentityRequest, IssuanceAnswer } from '../secure/cluster/issuance-protocol.js';

/** What the issuer reads from the API server. */
export interface IssuerLookups {
  readonly reviewToken: (token: string) => Promise<TokenReviewStatus>;
  /** The pod of that name in the mesh namespace; null when there is none. */
  readonly agentPod: (name: string) => Promise<AgentPod | null>;
  /** The pods scheduled on `node` that have not terminated. */
  readonly podsOnNode: (node: string) => Promise<PodPlacement[]>;
}

export type IssuerOutcome = 'issued' | 'refused' | 'unauthenticated' | 'invalid';

/** Counts decisions: `issued` / `refused` per identity, `unauthenticated` / `invalid` per request. */
export interface IssuerMetrics {
  issuerDecision(outcome: IssuerOutcome, count?: number): void;
}

export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/** The issuer holds no CA right now (not created yet, or deleted): the agent retries later. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

export interface IssuerServiceOptions {
  readonly lookups: IssuerLookups;
  readonly account: AgentAccount;
  /** The signing CA as last read from the Secret; null while there is none. */
  readonly ca: () => MeshCa | null;
  /** Why there is no CA (the answer's reason). */
  readonly unavailable: () => string;
  readonly logger: Logger;
  readonly metrics: IssuerMetrics;
  readonly lifetimeMs: number;
  readonly clock?: () => number;
}

export class IssuerService {
  readonly #options: IssuerServiceOptions;

  constructor(options: IssuerServiceOptions) {
    this.#options = options;
  }

  /** Throws UnauthenticatedError when the token does not prove an agent pod on a node. */
  async issue(token: string | undefined, requests: readonly IdentityRequest[]): Promise<IssuanceAnswer> {
    const { lookups, account, logger, metrics } = this.#options;
    if (this.#options.ca() === null) throw new UnavailableError(this.#options.unavailable());
    const identities = requests.map((r) => r.identity);
    const claims = token === undefined ? { ok: false as const, reason: 'no bearer token' } : tokenClaims(await lookups.reviewToken(token), account);
    const node = claims.ok ? requesterNode(claims.value, await lookups.agentPod(claims.value.podName), account) : claims;
    if (!node.ok) {
      metrics.issuerDecision('unauthenticated');
      logger.warn({ identities, reason: node.reason }, 'certificate request refused');
      throw new UnauthenticatedError(node.reason);
    }
    const requester = node.value;
    const podsByNode = new Map([[requester, await lookups.podsOnNode(requester)]]);
    const decision = authorizeIssuance({ requesterNode: requester, requested: identities, podsByNode });
    for (const refusal of decision.refused) {
      logger.warn({ node: requester, pod: claims.ok ? claims.value.podName : null, identity: refusal.identity, reason: refusal.reason }, 'certificate request refused');
    }
    metrics.issuerDecision('refused', decision.refused.length);
    const granted = new Set(decision.granted);
    const now = (this.#options.clock ?? Date.now)();
    const ca = this.#options.ca();
    if (ca === null) throw new UnavailableError(this.#options.unavailable());
    // `delete` is true once per identity: a repeated request gets one certificate.
    const certificates = requests.filter((r) => granted.delete(r.identity)).map((r) => ({
      identity: r.identity,
      certPem: signIdentityCert(ca, r.identity, r.publicKey, { now, lifetimeMs: this.#options.lifetimeMs }).certPem,
    }));
    metrics.issuerDecision('issued', certificates.length);
    return { certificates, refused: decision.refused };
  }
}
