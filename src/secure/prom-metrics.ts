/**
 * Secure mode's series on the agent's Prometheus registry. Identity labels are `ns/sa` (or
 * `node/<name>`) from verified certificates or from this node's own pods, and destinations are
 * Service ports of the config, so cardinality is bounded by the mesh, never by what a peer sends.
 */
import { Counter, Gauge, type Registry } from '../node-agent/telemetry/prom.js';
import type { HandshakeOutcome, IssuanceOutcome, SecureMetrics } from './metrics.js';

export class PromSecureMetrics implements SecureMetrics {
  readonly #expiry: Gauge<'identity'>;
  readonly #issuance: Counter<'identity' | 'outcome'>;
  readonly #authorization: Counter<'source' | 'destination' | 'result'>;
  readonly #tunnel: Counter<'outcome'>;
  readonly #permissive: Gauge;

  constructor(registry: Registry, permissive: boolean) {
    const registers = [registry];
    this.#expiry = new Gauge({
      name: 'plexus_certificate_expiry_timestamp_seconds', help: 'When the certificate held for an identity expires (Unix time).',
      labelNames: ['identity'], registers,
    });
    this.#issuance = new Counter({
      name: 'plexus_certificate_issuance_total', help: 'Certificate requests, by identity and outcome (issued, refused, failed).',
      labelNames: ['identity', 'outcome'], registers,
    });
    this.#authorization = new Counter({
      name: 'plexus_authorization_decisions_total',
      help: 'Authorization decisions on the destination node for tunnelled callers, by verified source identity, destination Service port and result.',
      labelNames: ['source', 'destination', 'result'], registers,
    });
    this.#tunnel = new Counter({
      name: 'plexus_tunnel_connections_total', help: 'Connections to the tunnel port, by outcome.', labelNames: ['outcome'], registers,
    });
    this.#permissive = new Gauge({
      name: 'plexus_secure_permissive', help: '1 when the tunnel port lets plaintext callers in (migration setting).', registers,
    });
    this.#permissive.set(permissive ? 1 : 0);
  }

  certificateIssuance(identity: string, outcome: IssuanceOutcome): void {
    this.#issuance.inc({ identity, outcome });
  }

  certificateExpiry(identity: string, notAfterMs: number | null): void {
    if (notAfterMs === null) this.#expiry.remove({ identity });
    else this.#expiry.set({ identity }, notAfterMs / 1000);
  }

  authorization(source: string, destination: string, allowed: boolean): void {
    this.#authorization.inc({ source, destination, result: allowed ? 'allowed' : 'denied' });
  }

  tunnelConnection(outcome: HandshakeOutcome): void {
    this.#tunnel.inc({ outcome });
  }
}
