/** What the protocol senders of a RequestMirror copy get from the MirrorSender that reserved it. */
import type { UpstreamPath } from '../../runtime/dialer.js';
import type { EndpointRuntime, MirrorTarget } from '../../runtime/types.js';
import type { MirrorOutcome } from '../../telemetry/types.js';
import type { UpstreamPool } from '../upstream-pool.js';

/** Where one copy goes; `finished` must be called exactly once when it is over. */
export interface MirrorCopy {
  readonly target: MirrorTarget;
  readonly endpoint: EndpointRuntime;
  /** Direct or through secure mode's tunnel. */
  readonly path: Exclude<UpstreamPath, { kind: 'refused' }>;
  readonly upstreams: UpstreamPool;
  readonly timeoutMs: number;
  finished(outcome: MirrorOutcome): void;
}

/**
 * What both protocol senders of a copy share: its timeout, and its one outcome, reported once,
 * after the sender let go of its connection or stream (`release`).
 */
export abstract class CopyExchange {
  protected readonly copy: MirrorCopy;
  #timer: NodeJS.Timeout | null = null;
  #done = false;

  constructor(copy: MirrorCopy) {
    this.copy = copy;
  }

  /** The outcome is known: nothing more is read or written. */
  protected get done(): boolean {
    return this.#done;
  }

  protected startTimeout(): void {
    this.#timer = setTimeout(() => this.end('timeout'), this.copy.timeoutMs);
  }

  protected end(outcome: MirrorOutcome): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.release(outcome);
    this.copy.finished(outcome);
  }

  /** Lets go of the connection or stream, for reuse or closed, as `outcome` allows. */
  protected abstract release(outcome: MirrorOutcome): void;
}
