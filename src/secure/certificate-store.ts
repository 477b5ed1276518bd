/**
 * The certificates an agent holds: one per identity it may present (the ServiceAccounts of the
 * pods on its node, and its own agent identity), renewed once half their lifetime has passed.
 *
 * Renewal swaps the new certificate in only once it has been issued: until then `get` keeps
 * returning the old one, and a failed renewal keeps it (retrying) until it expires. Connections
 * already established with an old certificate are unaffected; new ones use the new certificate.
 */
import { RENEW_AT_FRACTION } from './defaults.js';
import { NO_METRICS, type SecureMetrics } from './metrics.js';
import type { IssuedCert } from './workload-cert.js';

/** Obtains a certificate for an identity (locally from the CA, or from the leader). */
export type CertificateSource = (identity: string) => Promise<IssuedCert>;

export interface CertificateStoreOptions {
  readonly source: CertificateSource;
  /** Epoch ms; default `Date.now`. */
  readonly clock?: () => number;
  readonly metrics?: SecureMetrics;
  /** A failed issuance or renewal; the store retries on its next pass. */
  readonly onError?: (identity: string, error: Error) => void;
  /** Called after a certificate was added or replaced (e.g. to update a listener's context). */
  readonly onChange?: (cert: IssuedCert) => void;
  /** Retry delay after a failure, for `start()`; default 30 s. */
  readonly retryMs?: number;
}

export class CertificateStore {
  readonly #certs = new Map<string, IssuedCert>();
  /** When each certificate arrived: renewal counts from there, not from notBefore (backdated for clock skew). */
  readonly #obtainedAt = new WeakMap<IssuedCert, number>();
  readonly #wanted = new Set<string>();
  readonly #pending = new Map<string, Promise<void>>();
  readonly #options: CertificateStoreOptions;
  readonly #clock: () => number;
  readonly #metrics: SecureMetrics;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #failed = false;

  constructor(options: CertificateStoreOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#metrics = options.metrics ?? NO_METRICS;
  }

  /** The current, unexpired certificate of `identity`, if held. */
  get(identity: string): IssuedCert | undefined {
    const cert = this.#certs.get(identity);
    return cert !== undefined && this.#clock() < cert.notAfter ? cert : undefined;
  }

  identities(): string[] {
    return [...this.#certs.keys()].sort();
  }

  /**
   * Hold certificates for exactly `identities`: obtain the missing ones, drop the others (their
   * pods left the node, so the agent must no longer present them). Resolves once every
   * issuance attempted has finished; failures go to `onError`.
   */
  async sync(identities: Iterable<string>): Promise<void> {
    const wanted = new Set(identities);
    this.#wanted.clear();
    for (const identity of wanted) this.#wanted.add(identity);
    for (const identity of [...this.#certs.keys()]) {
      if (wanted.has(identity)) continue;
      this.#certs.delete(identity);
      this.#metrics.certificateExpiry(identity, null);
    }
    await Promise.all([...wanted].filter((identity) => this.get(identity) === undefined).map((identity) => this.#obtain(identity)));
    this.#reschedule();
  }

  /** Renew every certificate past the renewal point (or expired). Resolves when done. */
  async renewDue(): Promise<void> {
    const now = this.#clock();
    const due = [...this.#wanted].filter((identity) => {
      const cert = this.#certs.get(identity);
      return cert === undefined || now >= this.#renewalPoint(cert);
    });
    await Promise.all(due.map((identity) => this.#obtain(identity)));
    this.#reschedule();
  }

  /**
   * Re-issue every held certificate now (after a CA rotation, so each moves to the new root).
   * Each old certificate stays in use until its replacement is in place.
   */
  async renewAll(): Promise<void> {
    await Promise.all([...this.#wanted].map((identity) => this.#obtain(identity)));
    this.#reschedule();
  }

  /** When the next renewal is due (epoch ms), or null when nothing is held. */
  nextRenewalAt(): number | null {
    let next: number | null = null;
    for (const identity of this.#wanted) {
      const cert = this.#certs.get(identity);
      const at = cert === undefined ? this.#clock() : this.#renewalPoint(cert);
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Renew on a timer (unref'd: it never keeps the process alive). */
  start(): void {
    this.#running = true;
    this.#reschedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #obtain(identity: string): Promise<void> {
    const running = this.#pending.get(identity);
    if (running !== undefined) return running;
    const attempt = this.#options.source(identity).then((cert) => {
      // The pod may have left the node while the certificate was being issued.
      if (!this.#wanted.has(identity)) return;
      this.#certs.set(identity, cert);
      this.#obtainedAt.set(cert, this.#clock());
      this.#metrics.certificateExpiry(identity, cert.notAfter);
      this.#options.onChange?.(cert);
    }, (err: Error) => {
      this.#failed = true;
      const held = this.#certs.get(identity);
      if (held !== undefined && this.#clock() >= held.notAfter) {
        this.#certs.delete(identity);
        this.#metrics.certificateExpiry(identity, null);
      }
      this.#options.onError?.(identity, err);
    }).finally(() => this.#pending.delete(identity));
    this.#pending.set(identity, attempt);
    return attempt;
  }

  /**
   * Half-way through the time left when the certificate arrived. notBefore is backdated (5 min of
   * clock-skew allowance), so counting from it would renew a short-lived certificate at once.
   */
  #renewalPoint(cert: IssuedCert): number {
    const from = Math.max(cert.notBefore, this.#obtainedAt.get(cert) ?? cert.notBefore);
    return from + (cert.notAfter - from) * RENEW_AT_FRACTION;
  }

  #reschedule(): void {
    if (!this.#running) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const next = this.nextRenewalAt();
    const retryMs = this.#options.retryMs ?? 30_000;
    let delay = next === null ? retryMs : Math.max(0, next - this.#clock());
    // After a failure the failed identity is due at once: wait before asking again.
    if (this.#failed) delay = Math.max(delay, retryMs);
    this.#failed = false;
    // setTimeout holds at most ~24.8 days; the store wakes earlier and finds nothing due.
    this.#timer = setTimeout(() => { void this.renewDue(); }, Math.min(delay, 2 ** 31 - 1));
    this.#timer.unref();
  }
}
