/** Source IP → the identity of the pod on this node that owns it. */
import type { SourceIdentity } from '../../routing/mesh-config.js';
import { normalizeIp } from './ip.js';

export class IdentityTable {
  readonly #byIp = new Map<string, SourceIdentity>();

  constructor(identities: readonly SourceIdentity[]) {
    for (const identity of identities) this.#byIp.set(normalizeIp(identity.ip), identity);
  }

  /** Sockets already report canonical addresses, so the exact spelling is tried first. */
  lookup(ip: string): SourceIdentity | null {
    return this.#byIp.get(ip) ?? this.#byIp.get(normalizeIp(ip)) ?? null;
  }
}

/** `namespace/serviceAccount`, as AccessRule sources list it. */
export function identityKey(identity: SourceIdentity): string {
  return `${identity.namespace}/${identity.serviceAccount}`;
}
