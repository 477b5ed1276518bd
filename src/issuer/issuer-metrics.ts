/** The issuer's decisions on its `/metrics` registry; `outcome` is the only label (bounded). */
import { Counter, type Registry } from '../node-agent/telemetry/prom.js';
import type { IssuerMetrics, IssuerOutcome } from './issuer-service.js';

export class PromIssuerMetrics implements IssuerMetrics {
  readonly #decisions: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.#decisions = new Counter({
      name: 'plexus_issuer_decisions_total',
      help: 'Certificate requests the issuer decided: issued and refused per identity, unauthenticated (token or agent pod not proven) and invalid per request.',
      labelNames: ['outcome'], registers: [registry],
    });
    for (const outcome of ['issued', 'refused', 'unauthenticated', 'invalid'] as const) this.#decisions.inc({ outcome }, 0);
  }

  issuerDecision(outcome: IssuerOutcome, count = 1): void {
    if (count > 0) this.#decisions.inc({ outcome }, count);
  }
}
