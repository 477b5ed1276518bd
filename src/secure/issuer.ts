/**
 * Who may obtain which certificate. An agent gets certificates only for the ServiceAccounts of
 * pods scheduled on its own node (the rule of the Kubernetes Node authorizer and of istiod's
 * NodeAuthorizer), plus its own agent identity. `authorizeIssuance` is the pure decision; the
 * local issuer applies it before signing with the CA of `--ca-dir`, and the cluster's issuer
 * (src/issuer/issuer-service.ts) after TokenReview has told it which node the requesting agent runs on.
 */
import type { Logger } from 'pino';
import type { SourceIdentity } from '../routing/mesh-config.js';
import type { MeshCa } from './ca.js';
import { NO_METRICS, type SecureMetrics } from './metrics.js';
import { parseIdentityKey } from './spiffe.js';
import { issueNodeCert, issueWorkloadCert, nodeIdentity, type IssuedCert } from './workload-cert.js';

/** A pod as issuance sees it: where it runs and as whom. */
export interface PodPlacement {
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
}

/** Node name → the pods scheduled there (from `spec.nodeName`). */
export type PodsByNode = ReadonlyMap<string, readonly PodPlacement[]>;

export interface IssuanceRequest {
  /** The node the requester proved it runs on (local: its own `--node`; cluster: TokenReview). */
  readonly requesterNode: string;
  /** Identities asked for: `ns/sa`, or `node/<name>` for the agent's own certificate. */
  readonly requested: readonly string[];
  readonly podsByNode: PodsByNode;
}

export interface IssuanceDecision {
  readonly granted: readonly string[];
  readonly refused: readonly { readonly identity: string; readonly reason: string }[];
}

export function authorizeIssuance(request: IssuanceRequest): IssuanceDecision {
  const granted: string[] = [];
  const refused: { identity: string; reason: string }[] = [];
  const onNode = new Set((request.podsByNode.get(request.requesterNode) ?? []).map((pod) => `${pod.namespace}/${pod.serviceAccount}`));
  for (const identity of new Set(request.requested)) {
    if (identity.startsWith('node/')) {
      if (identity === nodeIdentity(request.requesterNode)) granted.push(identity);
      else refused.push({ identity, reason: `the agent of node ${request.requesterNode} may not act as ${identity}` });
    } else if (parseIdentityKey(identity) === null) {
      refused.push({ identity, reason: 'not an identity: expected namespace/serviceAccount' });
    } else if (onNode.has(identity)) {
      granted.push(identity);
    } else {
      refused.push({ identity, reason: `no pod with ServiceAccount ${identity} runs on node ${request.requesterNode}` });
    }
  }
  return { granted, refused };
}

/** The MeshConfig's identities table (the pods of one node) as placements of that node. */
export function podsOfNode(nodeName: string, identities: readonly SourceIdentity[]): PodsByNode {
  return new Map([[nodeName, identities.map(({ namespace, pod, serviceAccount }) => ({ namespace, pod, serviceAccount }))]]);
}

export class IssuanceRefusedError extends Error {
  override readonly name = 'IssuanceRefusedError';
}

export interface LocalIssuerOptions {
  readonly nodeName: string;
  /** The CA of `--ca-dir`, as last loaded (a function: rotation swaps it). */
  readonly ca: () => MeshCa;
  /** The pods of this node: the current MeshConfig's `identities`. */
  readonly identities: () => readonly SourceIdentity[];
  readonly logger: Logger;
  readonly metrics?: SecureMetrics;
  readonly clock?: () => number;
  readonly lifetimeMs?: number;
}

/**
 * Local mode: the agent signs its own certificates with the CA folder it was given, after the
 * same check the leader makes. (The agent holds the CA key, so in local mode the check guards
 * against mistakes, not against a compromised agent: see docs/secure-mode.md.)
 */
export class LocalIssuer {
  readonly #options: LocalIssuerOptions;
  readonly #metrics: SecureMetrics;

  constructor(options: LocalIssuerOptions) {
    this.#options = options;
    this.#metrics = options.metrics ?? NO_METRICS;
  }

  /** A `CertificateSource` for the CertificateStore. */
  readonly issue = async (identity: string): Promise<IssuedCert> => {
    const { nodeName } = this.#options;
    const decision = authorizeIssuance({
      requesterNode: nodeName,
      requested: [identity],
      podsByNode: podsOfNode(nodeName, this.#options.identities()),
    });
    const refusal = decision.refused[0];
    if (refusal !== undefined) {
      this.#metrics.certificateIssuance(identity, 'refused');
      this.#options.logger.warn({ node: nodeName, identity, reason: refusal.reason }, 'certificate request refused');
      throw new IssuanceRefusedError(`certificate for ${identity} refused: ${refusal.reason}`);
    }
    const options = { now: (this.#options.clock ?? Date.now)(), lifetimeMs: this.#options.lifetimeMs };
    try {
      const cert = identity === nodeIdentity(nodeName)
        ? issueNodeCert(this.#options.ca(), nodeName, options)
        : issueWorkloadCert(this.#options.ca(), identity, options);
      this.#metrics.certificateIssuance(identity, 'issued');
      return cert;
    } catch (err) {
      this.#metrics.certificateIssuance(identity, 'failed');
      throw err;
    }
  };
}
