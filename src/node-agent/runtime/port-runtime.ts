/** The live objects of one listener (one Service port), built once per runtime. */
import type { MeshPort, MeshService, Policy } from '../../routing/mesh-config.js';
import type { Authorizer } from './authorization.js';
import type { DestinationRoute } from './destination-router.js';
import type { RequestPredicate } from './matchers.js';
import type { RetryBudget } from './retry-budget.js';
import type { TokenBucket } from './token-bucket.js';
import type { AuthzResult, HttpRequestInfo, PortRuntime, RouteResult } from './types.js';

export interface CompiledRule {
  readonly matches: RequestPredicate;
  readonly route: DestinationRoute;
}

/** The rules and default route one group of clients sees. */
export interface RouteTable {
  readonly rules: readonly CompiledRule[];
  readonly defaultRoute: DestinationRoute;
}

export interface PortParts extends RouteTable {
  readonly service: MeshService;
  readonly port: MeshPort;
  readonly authorizer: Authorizer;
  /** Consumer routes by client namespace: they replace `rules` and `defaultRoute` for those clients. */
  readonly consumers: ReadonlyMap<string, RouteTable> | null;
  /** Null when the Service has no rate limit. */
  readonly rateLimit: TokenBucket | null;
  /** Null when the Service allows no retries. */
  readonly retryBudget: RetryBudget | null;
  readonly clock: () => number;
}

export class ListenerRuntime implements PortRuntime {
  readonly service: MeshService;
  readonly port: MeshPort;
  readonly policy: Policy;
  readonly #parts: PortParts;

  constructor(parts: PortParts) {
    this.service = parts.service;
    this.port = parts.port;
    this.policy = parts.service.policy;
    this.#parts = parts;
  }

  authorize(sourceIp: string, request: HttpRequestInfo | null): AuthzResult {
    return this.#parts.authorizer(sourceIp, request);
  }

  route(request: HttpRequestInfo | null, callerNamespace: string | null = null): RouteResult {
    const consumers = this.#parts.consumers;
    const table = consumers !== null && callerNamespace !== null ? consumers.get(callerNamespace) ?? this.#parts : this.#parts;
    if (request !== null) {
      for (const rule of table.rules) {
        if (rule.matches(request)) return rule.route();
      }
    }
    return table.defaultRoute();
  }

  tryAcquireRateLimit(now: number = this.#parts.clock()): boolean {
    return this.#parts.rateLimit?.tryAcquire(now) ?? true;
  }

  canRetry(now: number = this.#parts.clock()): boolean {
    return this.#parts.retryBudget?.tryRetry(now) ?? false;
  }

  recordAttempt(now: number = this.#parts.clock()): void {
    this.#parts.retryBudget?.recordAttempt(now);
  }
}
