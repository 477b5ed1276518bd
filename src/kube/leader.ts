/**
 * Leader election on a coordination.k8s.io/v1 Lease in the mesh namespace, as client-go does it:
 *
 * - The holder renews `renewTime` every `renewIntervalMs`; every write carries the
 *   resourceVersion it read, so of two agents writing at once one gets 409 Conflict and loses.
 * - Expiry is judged on this agent's own clock: a lease is expired when its record has not
 *   changed for `leaseDurationSeconds` since this agent first saw that record (no clock skew).
 * - A leader that cannot renew for `renewDeadlineMs` steps down before its lease expires, so two
 *   leaders never overlap.
 * - `stop()` releases the lease (clears holderIdentity) so another agent takes over at once.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiClient, KubeApiError } from './api-client.js';
import { sleep } from './backoff.js';

export interface LeaderElectorOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** Lease name (default `plexus-leader`). */
  readonly leaseName?: string;
  /** This agent: its pod or node name. */
  readonly identity: string;
  /** Default 15. */
  readonly leaseDurationSeconds?: number;
  /** Default leaseDuration / 3. */
  readonly renewIntervalMs?: number;
  /** Default leaseDuration * 2 / 3. */
  readonly renewDeadlineMs?: number;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  readonly onError?: (error: Error) => void;
}

export const DEFAULT_LEASE_NAME = 'plexus-leader';
/** Longest wait for the release on shutdown: a hung API server must not hold up the drain. */
const RELEASE_TIMEOUT_MS = 5_000;
export const DEFAULT_LEASE_DURATION_SECONDS = 15;

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** metav1.MicroTime: RFC 3339 with six fraction digits (the API server accepts nothing else). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #client: ApiClient;
  readonly #path: string;
  readonly #durationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #controller = new AbortController();
  #loop: Promise<void> | null = null;
  #leading = false;
  #lastRenew = 0;
  /** The record last seen and when this agent first saw it. */
  #observed: { record: string; at: number } | null = null;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#client = new ApiClient(options.kubeConfig);
    const name = options.leaseName ?? DEFAULT_LEASE_NAME;
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases/${encodeURIComponent(name)}`;
    this.#durationMs = (options.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS) * 1000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.floor((this.#durationMs * 2) / 3);
  }

  /**
   * True while this agent holds the lease and renewed it within the renew deadline: a leader
   * stalled past the deadline stops claiming leadership even before its loop notices.
   */
  get isLeader(): boolean {
    return this.#leading && Date.now() - this.#lastRenew <= this.#renewDeadlineMs;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader releases the lease. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#loop;
    // Releasing is safe even past the renew deadline: the PUT only succeeds if we still hold it.
    if (!this.#leading) return;
    const signal = AbortSignal.timeout(Math.min(this.#renewDeadlineMs, RELEASE_TIMEOUT_MS));
    try {
      const lease = (await this.#client.get(this.#path, {}, signal)) as Lease;
      if (lease.spec.holderIdentity === this.#options.identity) {
        const released: Lease = { ...lease, spec: { ...lease.spec, holderIdentity: null, acquireTime: null, renewTime: null, leaseDurationSeconds: 1 } };
        await this.#client.request('PUT', this.#path, { body: released, signal });
      }
    } catch (error) {
      // Not releasing only delays the next leader by one lease duration.
      this.#options.onError?.(asError(error));
    }
    this.#setLeading(false);
  }

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    const renewIntervalMs = this.#options.renewIntervalMs ?? Math.max(100, Math.floor(this.#durationMs / 3));
    while (!signal.aborted) {
      try {
        await this.#tryAcquireOrRenew();
      } catch (error) {
        if (signal.aborted) break;
        this.#options.onError?.(asError(error));
      }
      if (this.#leading && Date.now() - this.#lastRenew > this.#renewDeadlineMs) this.#setLeading(false);
      await sleep(renewIntervalMs, signal);
    }
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const me = this.#options.identity;
    // Leadership is counted from before the request: a slow answer must not extend it.
    const now = new Date();
    const durationSeconds = Math.round(this.#durationMs / 1000);
    // One round never outlasts the renew deadline (as client-go): a hung request must not stall
    // the loop, and stop() must not wait for it.
    const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(this.#renewDeadlineMs)]);
    let lease: Lease;
    try {
      lease = (await this.#client.get(this.#path, {}, signal)) as Lease;
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 404)) throw error;
      const created: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#options.leaseName ?? DEFAULT_LEASE_NAME, namespace: this.#options.namespace },
        spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      await this.#write('POST', this.#path.slice(0, this.#path.lastIndexOf('/')), created, now, signal);
      return;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, spec.renewTime ?? null, spec.leaseDurationSeconds ?? null]);
    if (this.#observed?.record !== record) this.#observed = { record, at: Date.now() };
    if (holder === me) {
      await this.#write('PUT', this.#path, { ...lease, spec: { ...spec, renewTime: microTime(now), leaseDurationSeconds: durationSeconds } }, now, signal);
      return;
    }
    if (this.#leading) this.#setLeading(false);
    const heldFor = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = holder === '' || Date.now() > this.#observed.at + heldFor;
    if (!expired) return;
    await this.#write('PUT', this.#path, {
      ...lease,
      spec: {
        holderIdentity: me,
        leaseDurationSeconds: durationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
      },
    }, now, signal);
  }

  /** Writes the lease; success means we lead, 409 means another agent won this round. */
  async #write(method: 'POST' | 'PUT', path: string, lease: Lease, attemptedAt: Date, signal: AbortSignal): Promise<void> {
    try {
      await this.#client.request(method, path, { body: lease, signal });
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 409) {
        this.#setLeading(false);
        return;
      }
      throw error;
    }
    this.#lastRenew = attemptedAt.getTime();
    this.#setLeading(true);
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    if (leading) this.#options.onStartedLeading?.();
    else this.#options.onStoppedLeading?.();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
