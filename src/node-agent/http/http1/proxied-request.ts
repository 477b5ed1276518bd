/**
 * One HTTP/1.1 request from a client connection, forwarded to an endpoint: its request side.
 * Admission, endpoint choice, retries and timeouts are the attempt controller's
 * (`../http-exchange.ts`); the response and the connections' events are ResponseRelay's
 * (`response-relay.ts`). Here: the request head as sent upstream, the body relayed with
 * backpressure, and the attempt written on a pooled connection.
 *
 * Request body bytes are held for a replay (a retry, or a resend after a stale keep-alive
 * connection failed) while they fit in `maxReplayBodyBytes`; past that the request can no longer
 * be retried once bytes went out.
 */
import { isIdempotent } from '../admission.js';
import type { HttpProxyContext } from '../context.js';
import { requestIdOf } from '../../telemetry/trace-context.js';
import type { UpstreamPath } from '../../runtime/dialer.js';
import type { EndpointRuntime, RuleActions, RuleMirrors } from '../../runtime/types.js';
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { rewrittenTarget } from '../../runtime/rule-actions.js';
import { type BodyScanner, ChunkedScanner, LengthScanner } from './body-scanner.js';
import type { UpstreamConnection } from './connection-pool.js';
import type { RequestHead } from './request-head.js';
import { type ClientSide, ResponseRelay, writeHeadAndBody } from './response-relay.js';
import { serializeRequestHead } from './serialize.js';

function requestScanner(head: RequestHead, maxTrailerBytes: number): BodyScanner | null {
  if (head.chunked) return new ChunkedScanner(maxTrailerBytes);
  if (head.contentLength > 0) return new LengthScanner(head.contentLength);
  return null;
}

export class ProxiedRequest extends ResponseRelay {
  readonly #bodyScanner: BodyScanner | null;
  #bodyChunks: Buffer[] = [];
  #bodyWritten = 0;
  #bodyBytes = 0;
  #replayable = true;
  /** Body bytes went out and were not kept: the request can no longer be sent again. */
  #bodyDiscarded = false;
  #headText = '';
  #staleResendUsed = false;
  /** The request carried no `x-request-id`: the agent adds `log.requestId`. */
  #idAdded = false;

  constructor(client: ClientSide, head: RequestHead, ctx: HttpProxyContext) {
    super(client, head, ctx);
    this.#bodyScanner = requestScanner(head, ctx.limits.maxHeaderBytes);
  }

  /** More request body (or tunnel) bytes are expected from the client. */
  get wantsClientData(): boolean {
    return this.tunneling || (this.#bodyScanner !== null && !this.#bodyScanner.done && !this.done);
  }

  get bodyDone(): boolean {
    return this.#bodyScanner === null || this.#bodyScanner.done;
  }

  /**
   * Takes request body bytes from `chunk[start..]`; returns the index after the last byte of
   * this request (the rest belongs to the next request).
   */
  onClientData(chunk: Buffer, start: number): number {
    if (this.tunneling) {
      this.writeUpstream(start === 0 ? chunk : chunk.subarray(start));
      return chunk.length;
    }
    const scanner = this.#bodyScanner;
    if (scanner === null || scanner.done) return start;
    const end = scanner.scan(chunk, start, chunk.length);
    if (scanner.error !== null) {
      this.failClientBody(scanner.error);
      return chunk.length;
    }
    if (end > start) this.#addBody(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
    if (scanner.done && this.backend !== null) this.startDefaultTimeout();
    if (scanner.done) this.#sendMirrors();
    return end;
  }

  /** Admits and forwards the request (after the body bytes that came with the head were taken). */
  start(): void {
    if (this.done) return;
    const receivedId = requestIdOf(this.head);
    this.#idAdded = receivedId === null;
    if (!this.admit(this.head, this.client.clientIp, receivedId, !this.head.upgrade)) return;
    const actions = this.actions;
    this.#headText = this.#upstreamHead(actions, actions?.requestHeaders ?? []);
    this.attempt();
    if (this.bodyDone) this.#sendMirrors();
  }

  /** The copies of a RequestMirror rule, once the whole request is here (fire-and-forget). */
  #sendMirrors(): void {
    const targets = this.mirrorTargets;
    if (targets === null) return;
    this.mirrorTargets = null;
    const actions = this.actions as RuleActions;
    const mirrors = actions.mirrors as RuleMirrors;
    // The rule's header edits only: a backendRef's own edits (after the rule's) stay with it.
    const head = mirrors.requestHeaders.length === actions.requestHeaders.length ? this.#headText : this.#upstreamHead(actions, mirrors.requestHeaders);
    const source = { identity: this.log.authz?.identity ?? null, port: this.runtime };
    this.ctx.mirrors.http1(targets, source, this.head.method, head, this.#replayable ? this.#bodyChunks : null);
  }

  /** The request head for an endpoint, with a Gateway API rule's rewrite and `headers` edits. */
  #upstreamHead(actions: RuleActions | null, headers: readonly HeaderEdits[]): string {
    return serializeRequestHead(this.head, this.client.clientIp, actions === null ? null : {
      headers,
      target: rewrittenTarget(actions, this.head.path, this.head.query),
      host: actions.rewrite?.hostname ?? null,
    }, this.#idAdded ? this.log.requestId : null);
  }

  // Forwarding ------------------------------------------------------------------------------

  #send(connection: UpstreamConnection): void {
    const socket = connection.socket;
    const chunks = this.#bodyChunks;
    const pending = this.#bodyWritten === 0 ? chunks : chunks.slice(this.#bodyWritten);
    let bytes = 0;
    for (const piece of pending) bytes += piece.length;
    writeHeadAndBody(socket, this.#headText, pending, bytes);
    this.#bodyWritten = chunks.length;
    this.#dropSentBody();
    if (socket.writableNeedDrain && !this.bodyDone) this.client.socket.pause();
    else if (!this.bodyDone) this.client.socket.resume();
  }

  #flushBody(connection: UpstreamConnection): void {
    const chunks = this.#bodyChunks;
    for (let i = this.#bodyWritten; i < chunks.length; i++) connection.socket.write(chunks[i] as Buffer);
    this.#bodyWritten = chunks.length;
    this.#dropSentBody();
  }

  /** Past the replay limit, what went out is not kept. */
  #dropSentBody(): void {
    if (!this.#replayable && this.#bodyChunks.length > 0) {
      this.#bodyChunks = [];
      this.#bodyWritten = 0;
      this.#bodyDiscarded = true;
    }
  }

  #addBody(piece: Buffer): void {
    this.#bodyChunks.push(piece);
    this.#bodyBytes += piece.length;
    if (this.#replayable && this.#bodyBytes > this.ctx.limits.maxReplayBodyBytes) this.#replayable = false;
    const upstream = this.upstream;
    if (upstream !== null) {
      this.#flushBody(upstream);
      if (upstream.socket.writableNeedDrain) this.client.socket.pause();
    } else if (!this.#replayable) {
      // Still connecting: hold what came, but stop reading until the endpoint can take it.
      this.client.socket.pause();
    }
  }

  /** Everything sent so far can be sent again to another connection. */
  protected get canResend(): boolean {
    return !this.#bodyDiscarded;
  }

  /** `reachedEndpoint`: the connection was up and the request (partly) written to it. */
  protected upstreamFailed(detail: string, reachedEndpoint: boolean): void {
    const connection = this.upstream;
    const endpoint = this.endpoint as EndpointRuntime;
    // A reused keep-alive connection the endpoint closed just as it was reused: the request
    // never reached it; resend once on a fresh connection without blaming the endpoint.
    if (reachedEndpoint && connection?.reused === true && !this.#staleResendUsed && this.canResend && isIdempotent(this.head.method)) {
      this.#staleResendUsed = true;
      this.abortUpstream(false);
      this.#bodyWritten = 0;
      this.attemptOn(endpoint);
      return;
    }
    // Once written to an endpoint, a non-idempotent request may have been acted on: only a
    // connection that never carried it (refused, timed out) makes it safe to send elsewhere.
    this.attemptFailed(detail, reachedEndpoint);
  }

  /** Writes the request on a pooled connection to `endpoint` (or through the tunnel's path). */
  protected send(endpoint: EndpointRuntime, path: UpstreamPath): void {
    if (path.kind === 'refused') {
      this.upstreamFailed(path.reason, false);
      return;
    }
    const key = path.kind === 'via' ? path.key : endpoint.key;
    const connect = path.kind === 'via' ? path.connect : undefined;
    this.ctx.upstreams.http1.acquire(key, endpoint.endpoint.ip, endpoint.endpoint.port, (error, connection) => {
      if (this.done || this.endpoint !== endpoint) {
        if (connection !== null) this.ctx.upstreams.http1.release(connection);
        return;
      }
      if (connection === null) {
        this.upstreamFailed(error?.message ?? 'connection failed', false);
        return;
      }
      connection.owner = this;
      this.upstream = connection;
      this.#send(connection);
    }, connect);
  }

  protected override prepareRetry(): void {
    super.prepareRetry();
    this.#bodyWritten = 0;
  }
}
