/**
 * The leader keeps the CoreDNS mesh block current (docs/install.md, "DNS at install"): when it
 * starts leading, when the set of Services needing their own rewrite rule changes, and every
 * `intervalMs` (so a platform that resets the Corefile gets the block back). `prepareCoreDns` is
 * idempotent: a check that finds the block current writes and restarts nothing. The own-names
 * hosts file (Services with plexus.dev/own-names, their shadow ClusterIPs) is kept the same way,
 * once the mesh block is current.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { prepareCoreDns } from '../dns/coredns-api.js';
import { prepareOwnNames } from '../dns/coredns-own-names.js';
import type { OwnName } from '../dns/own-names.js';
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

  /** Makes the block (and the own names) current for `config` if anything calls for a check. Never throws. */
  async keep(config: MeshConfig, ownNames: readonly OwnName[] = []): Promise<void> {
    const services = config.services.map((s) => ({ namespace: s.namespace, name: s.name }));
    const hashed = services.filter((s) => !hasShortShadowName(s.namespace, s.name)).map((s) => `${s.namespace}/${s.name}`).join(',');
    const key = `${hashed}|${ownNames.map((n) => `${n.namespace}/${n.name}=${n.addresses.join('+')}`).join(',')}`;
    const due = Date.now() - this.#checkedAt >= (this.#options.intervalMs ?? DNS_CHECK_INTERVAL_MS);
    if (this.#doneFor === key && !due) return;
    this.#checkedAt = Date.now();
    try {
      const { kubeConfig, meshDomain, namespace, logger } = this.#options;
      const change = await prepareCoreDns(kubeConfig, { meshDomain, namespace, services });
      const own = await prepareOwnNames(kubeConfig, { meshDomain, names: ownNames });
      const firstCheck = this.#doneFor === null;
      this.#doneFor = key;
      this.#lastFailure = '';
      if (change.changed) logger.info({ target: change.target, rolled: change.rolled }, 'CoreDNS mesh block written');
      if (own.changed) logger.info({ target: own.target, rolled: own.rolled, names: ownNames.length }, 'CoreDNS own names written');
      if (change.changed || firstCheck) for (const warning of change.warnings) logger.warn({ warning }, 'CoreDNS');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Logged once per distinct failure; retried at the next interval.
      if (message !== this.#lastFailure) this.#options.logger.warn({ err }, 'CoreDNS mesh block not written');
      this.#lastFailure = message;
    }
  }
}
