/**
 * One HTTP/1.1 request from a client connection, forwarded to an endpoint: admission, endpoint
 * choice, retries, timeout, body relay in both directions with backpressure, and the response
 * framing that decides whether the endpoint connection goes back to the pool.
 *
 * Request body bytes are held for a replay (a retry, or a resend after a stale keep-alive
 * connection failed) while they fit in `maxReplayBodyBytes`; past that the request can no longer
 * be retried once bytes went out.
 */
import type * as net from 'node:net';
import { admit, isGatewayFailure, isIdempotent } from '../admission.js';
import type { HttpProxyContext } from '../context.js';
import { type LocalAnswer, badGateway, noEndpoint, serviceName, upstreamTimeout } from '../local-answers.js';
import { RequestLog } from '../request-log.js';
import { newRequestId, requestIdOf, traceIdOf } from '../../telemetry/trace-context.js';
import type { BackendRuntime, EndpointRuntime, MirrorTarget, PortRuntime, RuleActions, RuleMirrors } from '../../runtime/types.js';
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { takeMirrors } from '../mirror/mirror-sender.js';
import { rewrittenTarget } from '../../runtime/rule-actions.js';
import { type BodyScanner, ChunkedScanner, CloseDelimitedScanner, LengthScanner, responseScanner } from './body-scanner.js';
import type { UpstreamConnection, UpstreamOwner } from './connection-pool.js';
import { RESPONSE_HEAD_RULES, findHead } from './head-bytes.js';
import { HeadError } from './head-error.js';
import type { RequestHead } from './request-head.js';
import { type ResponseHead, parseResponseHead } from './response-head.js';
import { serializeRequestHead, serializeResponseHead } from './serialize.js';
import { checkSwitchingProtocols } from './upgrade.js';
import { writeLocalAnswer } from './write-answer.js';
import { DIRECT_DIALER } from '../../runtime/dialer.js';

/** What a request needs from its client connection. */
export interface ClientSide {
  readonly socket: net.Socket;
  readonly clientIp: string;
  readonly draining: boolean;
  /** The client closed its sending side. */
  readonly ended: boolean;
  /** The request is over; `keepAlive` = the connection may carry the next one. */
  requestDone(keepAlive: boolean): void;
  /** Hands over bytes that arrived after the request head (used when a tunnel opens). */
  takePending(): Buffer | null;
  tunnelOpened(): void;
}

/** An endpoint that sends more interim (1xx) responses than this for one request gets a 502. */
const MAX_INTERIM_RESPONSES = 16;
/**
 * Head and body up to this size leave in one buffer: one plain write per message instead of a
 * string+buffer writev (a profile showed the socket writes as the largest cost per request).
 */
const COALESCE_MAX_BYTES = 16 * 1024;

/** Writes a latin1 head and the body bytes that follow it; returns `socket.write`'s verdict. */
function writeHeadAndBody(socket: net.Socket, head: string, body: readonly Buffer[], bodyBytes: number): boolean {
  if (bodyBytes === 0) return socket.write(head, 'latin1');
  if (head.length + bodyBytes <= COALESCE_MAX_BYTES) {
    const out = Buffer.allocUnsafe(head.length + bodyBytes);
    let offset = out.write(head, 0, 'latin1');
    for (const piece of body) offset += piece.copy(out, offset);
    return socket.write(out);
  }
  socket.cork();
  socket.write(head, 'latin1');
  let ok = true;
  for (const piece of body) ok = socket.write(piece);
  socket.uncork();
  return ok;
}

function requestScanner(head: RequestHead, maxTrailerBytes: number): BodyScanner | null {
  if (head.chunked) return new ChunkedScanner(maxTrailerBytes);
  if (head.contentLength > 0) return new LengthScanner(head.contentLength);
  return null;
}

export class ProxiedRequest implements UpstreamOwner {
  readonly #client: ClientSide;
  readonly #head: RequestHead;
  readonly #runtime: PortRuntime;
  readonly #ctx: HttpProxyContext;
  readonly #log: RequestLog;

  // Request body.
  readonly #bodyScanner: BodyScanner | null;
  #bodyChunks: Buffer[] = [];
  #bodyWritten = 0;
  #bodyBytes = 0;
  #replayable = true;
  /** Body bytes went out and were not kept: the request can no longer be sent again. */
  #bodyDiscarded = false;

  // Forwarding.
  #backend: BackendRuntime | null = null;
  #endpoint: EndpointRuntime | null = null;
  #tried: Set<EndpointRuntime> | null = null;
  #upstream: UpstreamConnection | null = null;
  #headText = '';
  #staleResendUsed = false;
  #timer: NodeJS.Timeout | null = null;
  /** `#timer` is the mesh default timeout, which ends with the response head. */
  #waitsForHead = false;
  /** Gateway API rule filters and timeouts; null for other routes. */
  #actions: RuleActions | null = null;
  #attemptTimer: NodeJS.Timeout | null = null;
  /** The request carried no `x-request-id`: the agent adds `#log.requestId`. */
  #idAdded = false;
  /** RequestMirror targets copying this request, sent once its body is complete. */
  #mirrorTargets: MirrorTarget[] | null = null;

  // Response.
  #responseSeen = false;
  #responsePending: Buffer | null = null;
  #response: ResponseHead | null = null;
  #responseScanner: BodyScanner | null = null;
  #responseStarted = false;
  #interimResponses = 0;
  #clientKeepAlive = false;
  #upstreamReusable = true;
  #tunnel = false;
  #done = false;

  constructor(client: ClientSide, head: RequestHead, ctx: HttpProxyContext) {
    this.#client = client;
    this.#head = head;
    this.#ctx = ctx;
    this.#runtime = ctx.current();
    this.#log = new RequestLog('http', this.#runtime, client.clientIp, head.method, head.path);
    this.#bodyScanner = requestScanner(head, ctx.limits.maxHeaderBytes);
  }

  /** More request body (or tunnel) bytes are expected from the client. */
  get wantsClientData(): boolean {
    return this.#tunnel || (this.#bodyScanner !== null && !this.#bodyScanner.done && !this.#done);
  }

  get tunneling(): boolean {
    return this.#tunnel;
  }

  get bodyDone(): boolean {
    return this.#bodyScanner === null || this.#bodyScanner.done;
  }

  /**
   * Takes request body bytes from `chunk[start..]`; returns the index after the last byte of
   * this request (the rest belongs to the next request).
   */
  onClientData(chunk: Buffer, start: number): number {
    if (this.#tunnel) {
      this.#writeUpstream(start === 0 ? chunk : chunk.subarray(start));
      return chunk.length;
    }
    const scanner = this.#bodyScanner;
    if (scanner === null || scanner.done) return start;
    const end = scanner.scan(chunk, start, chunk.length);
    if (scanner.error !== null) {
      this.#failClientBody(scanner.error);
      return chunk.length;
    }
    if (end > start) this.#addBody(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
    if (scanner.done && this.#backend !== null && this.#runtime.policy.timeoutMs === 0) this.#startDefaultTimeout();
    if (scanner.done) this.#sendMirrors();
    return end;
  }

  /** Admits and forwards the request (after the body bytes that came with the head were taken). */
  start(): void {
    if (this.#done) return;
    const receivedId = requestIdOf(this.#head);
    this.#log.requestId = receivedId ?? newRequestId();
    this.#idAdded = receivedId === null;
    this.#log.traceId = traceIdOf(this.#head);
    const admission = admit(this.#runtime, this.#client.clientIp, this.#head);
    this.#log.authz = admission.authz;
    if (admission.kind === 'answer') {
      this.#answer(admission.answer);
      return;
    }
    this.#backend = admission.backend;
    this.#log.backend = admission.backend.backend.service;
    this.#runtime.recordAttempt();
    const actions = admission.actions;
    this.#actions = actions;
    const timeoutMs = actions?.requestTimeoutMs ?? this.#runtime.policy.timeoutMs;
    if (timeoutMs > 0) this.#timer = setTimeout(() => this.#onTimeout(timeoutMs), timeoutMs);
    else if (this.bodyDone) this.#startDefaultTimeout();
    this.#headText = this.#upstreamHead(actions, actions?.requestHeaders ?? []);
    if (actions?.mirrors && !this.#head.upgrade) this.#mirrorTargets = takeMirrors(actions.mirrors);
    this.#attempt();
    if (this.bodyDone) this.#sendMirrors();
  }

  /** The copies of a RequestMirror rule, once the whole request is here (fire-and-forget). */
  #sendMirrors(): void {
    const targets = this.#mirrorTargets;
    if (targets === null) return;
    this.#mirrorTargets = null;
    const actions = this.#actions as RuleActions;
    const mirrors = actions.mirrors as RuleMirrors;
    // The rule's header edits only: a backendRef's own edits (after the rule's) stay with it.
    const head = mirrors.requestHeaders.length === actions.requestHeaders.length ? this.#headText : this.#upstreamHead(actions, mirrors.requestHeaders);
    const source = { identity: this.#log.authz?.identity ?? null, port: this.#runtime };
    this.#ctx.mirrors.http1(targets, source, this.#head.method, head, this.#replayable ? this.#bodyChunks : null);
  }

  /** The request head for an endpoint, with a Gateway API rule's rewrite and `headers` edits. */
  #upstreamHead(actions: RuleActions | null, headers: readonly HeaderEdits[]): string {
    return serializeRequestHead(this.#head, this.#client.clientIp, actions === null ? null : {
      headers,
      target: rewrittenTarget(actions, this.#head.path, this.#head.query),
      host: actions.rewrite?.hostname ?? null,
    }, this.#idAdded ? this.#log.requestId : null);
  }

  /** The client connection closed. */
  onClientGone(): void {
    if (this.#done) return;
    if (this.#tunnel) {
      // Nobody is left to read the endpoint's side: flush what the client sent, then close.
      this.#upstream?.socket.destroySoon();
      this.#closeTunnel();
      return;
    }
    this.#abortUpstream(false);
    this.#finish(false);
  }

  /** The client connection can take more bytes. */
  onClientDrain(): void {
    if (this.#upstream !== null && (this.#responseStarted || this.#tunnel)) this.#upstream.socket.resume();
  }

  onClientEnd(): void {
    if (this.#tunnel) {
      this.#upstream?.socket.end();
      return;
    }
    // No more bytes will come: a body still incomplete can never be forwarded whole.
    if (!this.bodyDone && !this.#done) this.#failClientBody('the client closed its side before the request body was complete');
  }

  // UpstreamOwner ---------------------------------------------------------------------------

  onUpstreamData(chunk: Buffer): void {
    if (this.#tunnel) {
      if (!this.#client.socket.write(chunk)) this.#upstream?.socket.pause();
      return;
    }
    this.#responseSeen = true;
    if (this.#response !== null) {
      this.#relayResponseBody(chunk, 0, null);
      return;
    }
    this.#readResponseHead(chunk);
  }

  onUpstreamEnd(): void {
    if (this.#tunnel) {
      this.#client.socket.end();
      return;
    }
    this.#upstreamEnded();
  }

  onUpstreamClose(error: Error | null): void {
    if (this.#tunnel) {
      this.#upstream = null;
      this.#client.socket.destroySoon();
      this.#closeTunnel();
      return;
    }
    // #upstream stays set so a failure can tell a reused connection (destroying it again is harmless).
    this.#upstreamEnded(error);
  }

  onUpstreamDrain(): void {
    if (this.#tunnel || !this.bodyDone) this.#client.socket.resume();
  }

  // Forwarding ------------------------------------------------------------------------------

  #attempt(): void {
    const backend = this.#backend as BackendRuntime;
    const endpoint = backend.pickEndpoint(this.#tried ?? undefined);
    if (endpoint === null) {
      this.#answer(noEndpoint(backend.backend.service));
      return;
    }
    this.#connect(endpoint);
  }

  #connect(endpoint: EndpointRuntime): void {
    this.#endpoint = endpoint;
    this.#log.endpoint = endpoint.key;
    endpoint.begin();
    const attemptMs = this.#actions?.attemptTimeoutMs ?? 0;
    if (attemptMs > 0) this.#attemptTimer = setTimeout(() => this.#onAttemptTimeout(endpoint, attemptMs), attemptMs);
    const path = (this.#ctx.dialer ?? DIRECT_DIALER)(endpoint.endpoint, this.#log.authz?.identity ?? null, this.#runtime);
    if (path.kind === 'refused') {
      this.#connectionFailed(path.reason, false);
      return;
    }
    const key = path.kind === 'via' ? path.key : endpoint.key;
    const connect = path.kind === 'via' ? path.connect : undefined;
    this.#ctx.upstreams.http1.acquire(key, endpoint.endpoint.ip, endpoint.endpoint.port, (error, connection) => {
      if (this.#done || this.#endpoint !== endpoint) {
        if (connection !== null) this.#ctx.upstreams.http1.release(connection);
        return;
      }
      if (connection === null) {
        this.#connectionFailed(error?.message ?? 'connection failed', false);
        return;
      }
      connection.owner = this;
      this.#upstream = connection;
      this.#send(connection);
    }, connect);
  }

  #send(connection: UpstreamConnection): void {
    const socket = connection.socket;
    const chunks = this.#bodyChunks;
    const pending = this.#bodyWritten === 0 ? chunks : chunks.slice(this.#bodyWritten);
    let bytes = 0;
    for (const piece of pending) bytes += piece.length;
    writeHeadAndBody(socket, this.#headText, pending, bytes);
    this.#bodyWritten = chunks.length;
    this.#dropSentBody();
    if (socket.writableNeedDrain && !this.bodyDone) this.#client.socket.pause();
    else if (!this.bodyDone) this.#client.socket.resume();
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
    if (this.#replayable && this.#bodyBytes > this.#ctx.limits.maxReplayBodyBytes) this.#replayable = false;
    const upstream = this.#upstream;
    if (upstream !== null) {
      this.#flushBody(upstream);
      if (upstream.socket.writableNeedDrain) this.#client.socket.pause();
    } else if (!this.#replayable) {
      // Still connecting: hold what came, but stop reading until the endpoint can take it.
      this.#client.socket.pause();
    }
  }

  #writeUpstream(piece: Buffer): void {
    const upstream = this.#upstream;
    if (upstream !== null && !upstream.socket.write(piece)) this.#client.socket.pause();
  }

  /** Everything sent so far can be sent again to another connection. */
  get #canResend(): boolean {
    return !this.#bodyDiscarded;
  }

  /** `reachedEndpoint`: the connection was up and the request (partly) written to it. */
  #connectionFailed(detail: string, reachedEndpoint: boolean): void {
    const connection = this.#upstream;
    this.#upstream = null;
    connection?.destroy();
    const endpoint = this.#endpoint as EndpointRuntime;
    // A reused keep-alive connection the endpoint closed just as it was reused: the request
    // never reached it; resend once on a fresh connection without blaming the endpoint.
    if (reachedEndpoint && connection?.reused === true && !this.#staleResendUsed && this.#canResend && isIdempotent(this.#head.method)) {
      this.#staleResendUsed = true;
      endpoint.end(false);
      this.#bodyWritten = 0;
      this.#connect(endpoint);
      return;
    }
    this.#endEndpoint(true);
    // Once written to an endpoint, a non-idempotent request may have been acted on: only a
    // connection that never carried it (refused, timed out) makes it safe to send elsewhere.
    if (this.#mayRetry(this.#canResend && (!reachedEndpoint || isIdempotent(this.#head.method)))) {
      this.#retry(endpoint);
      return;
    }
    this.#answer(badGateway(this.#backend?.backend.service ?? serviceName(this.#runtime), detail));
  }

  #mayRetry(replayPossible: boolean): boolean {
    return replayPossible && !this.#head.upgrade && this.#log.retries < this.#runtime.policy.retryAttempts && this.#runtime.canRetry();
  }

  #retry(failed: EndpointRuntime): void {
    this.#tried ??= new Set();
    this.#tried.add(failed);
    this.#log.retries++;
    this.#bodyWritten = 0;
    this.#responseSeen = false;
    this.#responsePending = null;
    this.#attempt();
  }

  #endEndpoint(failed: boolean): void {
    if (this.#attemptTimer !== null) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
    const endpoint = this.#endpoint;
    if (endpoint === null) return;
    this.#endpoint = null;
    endpoint.end(failed);
  }

  #abortUpstream(failed: boolean): void {
    const connection = this.#upstream;
    this.#upstream = null;
    connection?.destroy();
    this.#endEndpoint(failed);
  }

  #onTimeout(timeoutMs: number): void {
    this.#timer = null;
    if (this.#done) return;
    this.#abortUpstream(true);
    if (this.#responseStarted) {
      this.#log.reason = 'timeout';
      this.#client.socket.destroy();
      this.#finish(false);
      return;
    }
    this.#answer(upstreamTimeout(this.#runtime, timeoutMs));
  }

  /** A Gateway API `timeouts.backendRequest` ran out for this attempt: retry when allowed, else 504. */
  #onAttemptTimeout(endpoint: EndpointRuntime, timeoutMs: number): void {
    this.#attemptTimer = null;
    if (this.#done || this.#endpoint !== endpoint) return;
    if (!this.#responseStarted && this.bodyDone && isIdempotent(this.#head.method) && this.#mayRetry(this.#canResend)) {
      this.#abortUpstream(true);
      this.#retry(endpoint);
      return;
    }
    this.#clearTimer();
    this.#onTimeout(timeoutMs);
  }

  // Response --------------------------------------------------------------------------------

  #readResponseHead(chunk: Buffer): void {
    let buffer = this.#responsePending === null ? chunk : Buffer.concat([this.#responsePending, chunk]);
    this.#responsePending = null;
    for (;;) {
      let headLength: number;
      let response: ResponseHead;
      try {
        headLength = findHead(buffer, RESPONSE_HEAD_RULES);
        if (headLength === -1) {
          this.#responsePending = buffer;
          return;
        }
        response = parseResponseHead(buffer, headLength);
        if (response.status === 101 && this.#head.upgrade) checkSwitchingProtocols(response.fields);
      } catch (error) {
        this.#badResponse(error instanceof HeadError ? error.message : String(error));
        return;
      }
      if (response.status === 101) {
        if (this.#head.upgrade) this.#openTunnel(response, buffer, headLength);
        else this.#badResponse('101 Switching Protocols without an Upgrade request');
        return;
      }
      if (response.status < 200) {
        if (++this.#interimResponses > MAX_INTERIM_RESPONSES) {
          this.#badResponse(`more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
          return;
        }
        // Interim responses (100 Continue, 103 Early Hints) go to the client as they are.
        this.#client.socket.write(serializeResponseHead(response, false, false), 'latin1');
        if (headLength === buffer.length) return;
        buffer = buffer.subarray(headLength);
        continue;
      }
      this.#startResponse(response, buffer, headLength);
      return;
    }
  }

  #startResponse(response: ResponseHead, buffer: Buffer, bodyStart: number): void {
    if (isGatewayFailure(response.status) && isIdempotent(this.#head.method) && this.bodyDone && this.#mayRetry(this.#replayable)) {
      const endpoint = this.#endpoint as EndpointRuntime;
      this.#abortUpstream(true);
      this.#retry(endpoint);
      return;
    }
    if (this.#waitsForHead) this.#clearTimer();
    this.#response = response;
    const scanner = responseScanner(this.#head.method, response, RESPONSE_HEAD_RULES.maxBytes);
    this.#responseScanner = scanner;
    // An upgrade the endpoint did not take leaves doubt about what it read after the head: no reuse.
    this.#upstreamReusable = response.keepAlive && this.#head.minorVersion === 1 && !this.#head.upgrade && !(scanner instanceof CloseDelimitedScanner);
    this.#clientKeepAlive = this.#head.keepAlive && this.#head.minorVersion === 1 && !this.#head.upgrade &&
      this.bodyDone && !this.#client.draining && !(scanner instanceof CloseDelimitedScanner);
    this.#log.status = response.status;
    this.#responseStarted = true;
    const head = serializeResponseHead(response, !this.#clientKeepAlive, false, this.#actions?.responseHeaders);
    if (scanner.done || bodyStart === buffer.length) {
      this.#client.socket.write(head, 'latin1');
      if (!scanner.done) return;
      if (bodyStart < buffer.length) this.#upstreamReusable = false;
      this.#completeResponse();
      return;
    }
    this.#relayResponseBody(buffer, bodyStart, head);
  }

  /** `head`: the response head, not written yet, to send together with these body bytes. */
  #relayResponseBody(buffer: Buffer, start: number, head: string | null): void {
    const scanner = this.#responseScanner as BodyScanner;
    const end = scanner.scan(buffer, start, buffer.length);
    if (scanner.error !== null && head !== null) {
      // Nothing reached the client yet: it gets a 502 instead of the broken response.
      this.#badResponse(`invalid response body framing: ${scanner.error}`);
      return;
    }
    if (scanner.error !== null) {
      this.#log.reason = 'upstream-error';
      this.#abortUpstream(true);
      this.#client.socket.destroy();
      this.#finish(false);
      return;
    }
    const piece = end === start ? null : start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
    const client = this.#client.socket;
    let ok: boolean;
    if (head === null) ok = piece === null || client.write(piece);
    else ok = piece === null ? client.write(head, 'latin1') : writeHeadAndBody(client, head, [piece], piece.length);
    if (!ok) this.#upstream?.socket.pause();
    if (!scanner.done) return;
    if (end < buffer.length) this.#upstreamReusable = false;
    this.#completeResponse();
  }

  /** The endpoint's side ended (FIN or close) while this request owned the connection. */
  #upstreamEnded(error: Error | null = null): void {
    if (this.#done) return;
    if (!this.#responseSeen) {
      this.#connectionFailed(error?.message ?? 'the endpoint closed the connection before responding', true);
      return;
    }
    if (this.#responseScanner instanceof CloseDelimitedScanner) {
      this.#upstreamReusable = false;
      this.#completeResponse();
      return;
    }
    // Cut off in the middle of a response.
    const started = this.#responseStarted;
    this.#abortUpstream(true);
    if (!started) {
      this.#answer(badGateway(this.#backend?.backend.service ?? '', 'the endpoint closed the connection mid-response'));
      return;
    }
    this.#log.reason = 'upstream-error';
    this.#client.socket.destroy();
    this.#finish(false);
  }

  #badResponse(detail: string): void {
    this.#abortUpstream(true);
    this.#answer(badGateway(this.#backend?.backend.service ?? '', detail));
  }

  #completeResponse(): void {
    const connection = this.#upstream;
    this.#upstream = null;
    if (connection !== null) {
      connection.socket.resume();
      if (this.#upstreamReusable && this.bodyDone) this.#ctx.upstreams.http1.release(connection);
      else connection.destroy();
    }
    this.#endEndpoint(isGatewayFailure(this.#log.status));
    this.#finish(this.#clientKeepAlive);
  }

  #openTunnel(response: ResponseHead, buffer: Buffer, headLength: number): void {
    this.#tunnel = true;
    this.#responseStarted = true;
    this.#log.protocol = 'websocket';
    this.#log.status = 101;
    this.#clearTimer();
    const client = this.#client.socket;
    client.write(serializeResponseHead(response, false, true), 'latin1');
    if (headLength < buffer.length) client.write(buffer.subarray(headLength));
    const pending = this.#client.takePending();
    if (pending !== null) this.#writeUpstream(pending);
    // The client half-closed before the switch: pass its end on once its bytes are out.
    if (this.#client.ended) this.#upstream?.socket.end();
    client.resume();
    this.#client.tunnelOpened();
  }

  #closeTunnel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#endEndpoint(false);
    this.#log.report(this.#ctx.telemetry);
  }

  // Local answers and the end --------------------------------------------------------------

  /** The proxy answers itself (nothing from an endpoint reached the client yet). */
  #answer(answer: LocalAnswer): void {
    this.#abortUpstream(false);
    this.#log.status = answer.status;
    this.#log.reason = answer.reason;
    const keepAlive = this.#head.keepAlive && this.#head.minorVersion === 1 && !this.#head.upgrade && this.bodyDone && !this.#client.draining;
    this.#responseStarted = true;
    writeLocalAnswer(this.#client.socket, answer.status, answer.body, !keepAlive, this.#head.method === 'HEAD', answer.location);
    this.#finish(keepAlive);
  }

  #failClientBody(reason: string): void {
    if (this.#done) return;
    this.#abortUpstream(false);
    if (this.#responseStarted) {
      this.#log.reason = 'bad-request';
      this.#client.socket.destroy();
      this.#finish(false);
      return;
    }
    this.#log.status = 400;
    this.#log.reason = 'bad-request';
    writeLocalAnswer(this.#client.socket, 400, `bad request: ${reason}\n`, true, false);
    this.#finish(false);
  }

  #finish(keepAlive: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#log.report(this.#ctx.telemetry);
    this.#client.requestDone(keepAlive);
  }

  /** The mesh default (no `plexus.dev/timeout`): from the end of the request to the response head. */
  #startDefaultTimeout(): void {
    const timeoutMs = this.#ctx.limits.requestTimeoutMs;
    if (timeoutMs <= 0 || this.#timer !== null || this.#done) return;
    this.#waitsForHead = true;
    // A static callback with the request as its argument: no closure per request.
    this.#timer = setTimeout(ProxiedRequest.#defaultTimeoutFired, timeoutMs, this);
  }

  static #defaultTimeoutFired(request: ProxiedRequest): void {
    request.#onTimeout(request.#ctx.limits.requestTimeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waitsForHead = false;
  }
}
