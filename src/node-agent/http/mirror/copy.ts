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
