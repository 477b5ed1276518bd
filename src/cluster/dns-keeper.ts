/**
 * The leader keeps the CoreDNS mesh block current (docs/install.md, "DNS at install"): when it
 * starts leading, when the set of Services needing their own rewrite rule changes, and every
 * `intervalMs` (so a platform that resets the Corefile gets the block back). `prepareCoreDns` is
 * idempotent: a check that finds the block current writes and restarts nothing.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { prepareCoreDns } from '../dns/coredns-api.js';
import { hasShortShadowName } from '../dns/shadow-name.js';
import type { MeshConfig } from '../routing/mesh-config.js';

export const DNS_CHECK_INTERVAL_MS = 60_000;

export interface DnsKeeperOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly meshDomain: string;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

export class DnsKeeper {
  readonly #options: DnsKeeperOptions;
  /** The hashed-name Services the block was last made current for ('' = never). */
  #doneFor: string | null = null;
  #checkedAt = 0;
  #lastFailure = '';

  constructor(options: DnsKeeperOptions) {
    this.#options = options;
  }

  /** Leadership changed hands: the next `keep` checks CoreDNS again. */
  reset(): void {
    this.#doneFor = null;
  }

  /** Makes the block current for `config` if anything calls for a check. Never throws. */
  async keep(config: MeshConfig): Promise<void> {
    const services = config.services.map((s) => ({ namespace: s.namespace, name: s.name }));
    const key = services.filter((s) => !hasShortShadowName(s.namespace, s.name)).map((s) => `${s.namespace}/${s.name}`).join(',');
    const due = Date.now() - this.#checkedAt >= (this.#options.intervalMs ?? DNS_CHECK_INTERVAL_MS);
    if (this.#doneFor === key && !due) return;
    this.#checkedAt = Date.now();
    try {
      const change = await prepareCoreDns(this.#options.kubeConfig, { meshDomain: this.#options.meshDomain, namespace: this.#options.namespace, services });
      const firstCheck = this.#doneFor === null;
      this.#doneFor = key;
      this.#lastFailure = '';
      if (change.changed) this.#options.logger.info({ target: change.target, rolled: change.rolled }, 'CoreDNS mesh block written');
      if (change.changed || firstCheck) for (const warning of change.warnings) this.#options.logger.warn({ warning }, 'CoreDNS');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Logged once per distinct failure; retried at the next interval.
      if (message !== this.#lastFailure) this.#options.logger.warn({ err }, 'CoreDNS mesh block not written');
      this.#lastFailure = message;
    }
  }
}
