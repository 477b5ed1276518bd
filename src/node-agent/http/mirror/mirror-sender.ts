/**
 * Gateway API RequestMirror: fire-and-forget copies of requests to a mirror Service. A copy is
 * sent once the client's whole request is in hand (its body within the replay limit), on its own
 * upstream connection or stream, and its answer is read and dropped: nothing of it reaches the
 * client, delays the primary exchange or counts toward the primary's endpoints (balancing,
 * circuit breaking). Copies are bounded agent-wide (`maxMirrorsInFlight`) and in time
 * (`mirrorTimeoutMs`); a copy that cannot be sent is counted in
 * `plexus_mirrored_requests_total` with the reason, never queued.
 */
import type * as http2 from 'node:http2';
import type { SourceIdentity } from '../../../routing/mesh-config.js';
import type { Dialer } from '../../runtime/dialer.js';
import type { MirrorTarget, PortRuntime, RuleMirrors } from '../../runtime/types.js';
import type { MirrorOutcome, Telemetry } from '../../telemetry/types.js';
import type { UpstreamPool } from '../upstream-pool.js';
import type { MirrorCopy } from './copy.js';
import { H2Mirror } from './h2-mirror.js';
import { Http1Mirror } from './http1-mirror.js';

export interface MirrorLimits {
  readonly maxMirrorsInFlight: number;
  readonly mirrorTimeoutMs: number;
}

/** The request being copied, as the source identity and listener that admitted it. */
export interface MirrorSource {
  readonly identity: SourceIdentity | null;
  readonly port: PortRuntime;
}

/**
 * The targets of `mirrors` that copy this request (each target's share decides), or null when
 * none does. Called once per forwarded request of a rule with mirrors.
 */
export function takeMirrors(mirrors: RuleMirrors): MirrorTarget[] | null {
  let taken: MirrorTarget[] | null = null;
  for (const target of mirrors.targets) if (target.take()) (taken ??= []).push(target);
  return taken;
}

export class MirrorSender {
  readonly #upstreams: UpstreamPool;
  readonly #telemetry: Telemetry;
  readonly #dialer: Dialer;
  readonly #limits: MirrorLimits;
  #inFlight = 0;

  constructor(upstreams: UpstreamPool, telemetry: Telemetry, dialer: Dialer, limits: MirrorLimits) {
    this.#upstreams = upstreams;
    this.#telemetry = telemetry;
    this.#dialer = dialer;
    this.#limits = limits;
  }

  /** Copies in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * HTTP/1.1 copies: `head` as sent upstream, `body` the raw body bytes as the client framed them
   * (null when the body outgrew the replay limit and was not kept whole).
   */
  http1(targets: readonly MirrorTarget[], source: MirrorSource, method: string, head: string, body: readonly Buffer[] | null): void {
    for (const target of targets) {
      const copy = body === null ? this.#tooLarge(target) : this.#reserve(target, source);
      if (copy !== null) new Http1Mirror(copy, method, head, body as readonly Buffer[]).start();
    }
  }

  /** h2c copies: the request headers as sent upstream and the whole body (null: not kept). */
  h2(targets: readonly MirrorTarget[], source: MirrorSource, headers: http2.OutgoingHttpHeaders, body: readonly Buffer[] | null): void {
    for (const target of targets) {
      const copy = body === null ? this.#tooLarge(target) : this.#reserve(target, source);
      if (copy !== null) new H2Mirror(copy, headers, body as readonly Buffer[]).start();
    }
  }

  #tooLarge(target: MirrorTarget): null {
    this.#record(target, 'too-large');
    return null;
  }

  /** A slot and an endpoint for one copy, or null (counted) when there is none. */
  #reserve(target: MirrorTarget, source: MirrorSource): MirrorCopy | null {
    if (this.#inFlight >= this.#limits.maxMirrorsInFlight) return this.#drop(target, 'overloaded');
    const endpoint = target.backend.pickEndpoint();
    if (endpoint === null) return this.#drop(target, 'no-endpoint');
    const path = this.#dialer(endpoint.endpoint, source.identity, source.port);
    if (path.kind === 'refused') return this.#drop(target, 'failed');
    this.#inFlight++;
    let open = true;
    return {
      target, endpoint, path, upstreams: this.#upstreams, timeoutMs: this.#limits.mirrorTimeoutMs,
      finished: (outcome) => {
        if (!open) return;
        open = false;
        this.#inFlight--;
        this.#record(target, outcome);
      },
    };
  }

  #drop(target: MirrorTarget, outcome: MirrorOutcome): null {
    this.#record(target, outcome);
    return null;
  }

  #record(target: MirrorTarget, outcome: MirrorOutcome): void {
    const service = target.backend.backend.service;
    const slash = service.indexOf('/');
    this.#telemetry.mirror({ destinationNamespace: service.slice(0, slash), destinationService: service.slice(slash + 1), outcome });
  }
}
