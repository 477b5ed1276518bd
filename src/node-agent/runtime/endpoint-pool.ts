/**
 * One backend Service's endpoints for one runtime, and the load balancer over them.
 *
 * Only ready, non-terminating endpoints are pooled. A pick prefers, in order: endpoints neither
 * ejected nor excluded; then excluded but not ejected (a retry with nowhere else to go); then
 * ejected ones (only after a reload left a backend with nothing but ejected endpoints).
 * Round-robin walks a cursor; least-request takes two distinct random candidates and keeps
 * the one with fewer requests in flight, the cursor breaking ties so idle pools rotate evenly.
 */
import type { Backend, CircuitBreakerPolicy, Endpoint, LoadBalancer } from '../../routing/mesh-config.js';
import type { EndpointHealth } from './circuit-breaker.js';
import type { BackendRuntime, EndpointRuntime } from './types.js';

/** Load-balancer position, carried across reloads while the pool's endpoint set is unchanged. */
export interface PoolCursor {
  value: number;
}

export interface PoolSettings {
  readonly loadBalancer: LoadBalancer;
  readonly circuitBreaker: CircuitBreakerPolicy | null;
  readonly clock: () => number;
  readonly random: () => number;
}

export function endpointKey(endpoint: Endpoint): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

function isUsable(endpoint: Endpoint): boolean {
  return endpoint.ready && !endpoint.terminating;
}

class PooledEndpoint implements EndpointRuntime {
  readonly key: string;
  readonly endpoint: Endpoint;
  readonly #health: EndpointHealth;
  readonly #pool: EndpointPool;

  constructor(endpoint: Endpoint, health: EndpointHealth, pool: EndpointPool) {
    this.key = endpointKey(endpoint);
    this.endpoint = endpoint;
    this.#health = health;
    this.#pool = pool;
  }

  get active(): number {
    return this.#health.active;
  }

  begin(): void {
    this.#health.active++;
  }

  end(failed: boolean): void {
    this.#health.active = Math.max(0, this.#health.active - 1);
    if (!failed) {
      this.#health.recordSuccess();
      return;
    }
    const now = this.#pool.settings.clock();
    this.#health.recordFailure(this.#pool.settings.circuitBreaker, now, () => this.#pool.hasOtherAvailable(this, now));
  }

  isEjected(now: number = this.#pool.settings.clock()): boolean {
    return this.#health.isEjected(now);
  }

  get ejectionRecorded(): boolean {
    return this.#health.ejectionRecorded;
  }
}

/**
 * Pick preference, best first: neither ejected nor excluded; not ejected; anything pooled.
 * Checked without allocating, since every request picks.
 */
const TIERS = [0, 1, 2] as const;
type Tier = (typeof TIERS)[number];

function acceptable(endpoint: EndpointRuntime, tier: Tier, now: number, exclude: ReadonlySet<EndpointRuntime> | undefined): boolean {
  if (tier === 2) return true;
  if (endpoint.isEjected(now)) return false;
  return tier === 1 || exclude === undefined || !exclude.has(endpoint);
}

export class EndpointPool implements BackendRuntime {
  readonly backend: Backend;
  readonly settings: PoolSettings;
  readonly endpoints: readonly EndpointRuntime[];
  readonly #pooled: readonly PooledEndpoint[];
  readonly #cursor: PoolCursor;

  /** `healthOf` returns the shared health of an endpoint of this backend. */
  constructor(backend: Backend, settings: PoolSettings, cursor: PoolCursor, healthOf: (endpoint: Endpoint) => EndpointHealth) {
    this.backend = backend;
    this.settings = settings;
    this.#cursor = cursor;
    this.#pooled = backend.endpoints.filter(isUsable).map((endpoint) => new PooledEndpoint(endpoint, healthOf(endpoint), this));
    this.endpoints = this.#pooled;
  }

  get hasEndpoints(): boolean {
    return this.endpoints.length > 0;
  }

  /** Is some endpoint other than `self` able to take traffic, so `self` may be ejected? */
  hasOtherAvailable(self: EndpointRuntime, now: number): boolean {
    return this.endpoints.some((endpoint) => endpoint !== self && !endpoint.isEjected(now));
  }

  pickEndpoint(exclude?: ReadonlySet<EndpointRuntime>): EndpointRuntime | null {
    if (this.endpoints.length === 0) return null;
    // Reading the clock costs more than the rest of a pick; only ejections need it. With no
    // ejection and nothing excluded every endpoint is acceptable: go straight to the last tier.
    const ejections = this.#pooled.some((endpoint) => endpoint.ejectionRecorded);
    const now = ejections ? this.settings.clock() : 0;
    const firstTier = ejections || (exclude !== undefined && exclude.size > 0) ? 0 : 2;
    for (const tier of TIERS) {
      if (tier < firstTier) continue;
      const picked = this.settings.loadBalancer === 'least-request'
        ? this.#leastRequest(tier, now, exclude)
        : this.#roundRobin(tier, now, exclude);
      if (picked !== null) return picked;
    }
    return null;
  }

  #roundRobin(tier: Tier, now: number, exclude: ReadonlySet<EndpointRuntime> | undefined): EndpointRuntime | null {
    const count = this.endpoints.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#cursor.value + step) % count;
      const endpoint = this.endpoints[index] as EndpointRuntime;
      if (acceptable(endpoint, tier, now, exclude)) {
        this.#cursor.value = (index + 1) % count;
        return endpoint;
      }
    }
    return null;
  }

  /** Power of two choices among the acceptable endpoints. */
  #leastRequest(tier: Tier, now: number, exclude: ReadonlySet<EndpointRuntime> | undefined): EndpointRuntime | null {
    let candidates = tier === 2 ? this.endpoints.length : 0;
    if (tier !== 2) for (const endpoint of this.endpoints) if (acceptable(endpoint, tier, now, exclude)) candidates++;
    if (candidates === 0) return null;
    let chosen: number;
    if (candidates === 1) {
      chosen = this.#nthAcceptable(0, tier, now, exclude);
    } else {
      const first = Math.floor(this.settings.random() * candidates) % candidates;
      let second = Math.floor(this.settings.random() * (candidates - 1)) % (candidates - 1);
      if (second >= first) second++;
      chosen = this.#lessLoaded(this.#nthAcceptable(first, tier, now, exclude), this.#nthAcceptable(second, tier, now, exclude));
    }
    this.#cursor.value = (chosen + 1) % this.endpoints.length;
    return this.endpoints[chosen] as EndpointRuntime;
  }

  /** Index in `endpoints` of the n-th (0-based) acceptable endpoint; the caller counted them. */
  #nthAcceptable(n: number, tier: Tier, now: number, exclude: ReadonlySet<EndpointRuntime> | undefined): number {
    if (tier === 2) return n;
    let seen = 0;
    for (let index = 0; index < this.endpoints.length; index++) {
      if (!acceptable(this.endpoints[index] as EndpointRuntime, tier, now, exclude)) continue;
      if (seen === n) return index;
      seen++;
    }
    throw new Error(`endpoint pool of ${this.backend.service}: fewer than ${n + 1} acceptable endpoints`);
  }

  /** Fewer in flight wins; on a tie, the one the round-robin cursor reaches first. */
  #lessLoaded(a: number, b: number): number {
    const activeA = (this.endpoints[a] as EndpointRuntime).active;
    const activeB = (this.endpoints[b] as EndpointRuntime).active;
    if (activeA !== activeB) return activeA < activeB ? a : b;
    const count = this.endpoints.length;
    const cursor = this.#cursor.value;
    return (a - cursor + count) % count <= (b - cursor + count) % count ? a : b;
  }
}
