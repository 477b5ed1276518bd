/**
 * One HTTP/2 stream from an h2c client, forwarded as a stream on the chosen endpoint's session:
 * the same admission, endpoint choice, retries, timeout and telemetry as HTTP/1.1, with
 * trailers (gRPC status) passed through. The request body is kept for a replay while it fits
 * in `maxReplayBodyBytes`.
 */
import * as http2 from 'node:http2';
import { admit, isGatewayFailure, isIdempotent } from '../admission.js';
import type { HttpProxyContext } from '../context.js';
import { type LocalAnswer, badGateway, badRequest, noEndpoint, serviceName, upstreamTimeout } from '../local-answers.js';
import { RequestLog } from '../request-log.js';
import { newRequestId, requestIdOf, traceIdOf } from '../../telemetry/trace-context.js';
import type { RequestTarget } from '../request-target.js';
import { normalizeIp } from '../../runtime/ip.js';
import type { BackendRuntime, EndpointRuntime, MirrorTarget, PortRuntime, RuleActions, RuleMirrors } from '../../runtime/types.js';
import { takeMirrors } from '../mirror/mirror-sender.js';
import { rewrittenTarget } from '../../runtime/rule-actions.js';
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { grpcStatusFor } from './grpc-status.js';
import { CONNECTION_SPECIFIC, StreamRequestInfo, editHeaders } from './stream-headers.js';
import { DIRECT_DIALER } from '../../runtime/dialer.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

export function proxyStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ctx: HttpProxyContext): void {
  new StreamProxy(stream, headers, ctx).start();
}

class StreamProxy {
  readonly #stream: http2.ServerHttp2Stream;
  readonly #info: StreamRequestInfo;
  readonly #ctx: HttpProxyContext;
  readonly #runtime: PortRuntime;
  readonly #sourceIp: string;
  readonly #log: RequestLog;
  #backend: BackendRuntime | null = null;
  #endpoint: EndpointRuntime | null = null;
  #tried: Set<EndpointRuntime> | null = null;
  #upstream: http2.ClientHttp2Stream | null = null;
  #bodyChunks: Buffer[] = [];
  #bodyBytes = 0;
  #replayable = true;
  #bodyEnded = false;
  #responded = false;
  #timer: NodeJS.Timeout | null = null;
  /** `#timer` is the mesh default timeout, which ends with the response head. */
  #waitsForHead = false;
  #done = false;
  /** Gateway API rule filters and timeouts; null for other routes. */
  #actions: RuleActions | null = null;
  /** The client's `x-request-id`; null when the agent adds one. */
  #receivedId: string | null = null;
  /** RequestMirror targets copying this request, sent once the client's stream ended. */
  #mirrorTargets: MirrorTarget[] | null = null;
  /** Gateway API `timeouts.backendRequest` of the current attempt. */
  #attemptTimer: NodeJS.Timeout | null = null;

  constructor(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ctx: HttpProxyContext) {
    this.#stream = stream;
    this.#info = new StreamRequestInfo(headers, ctx.paths);
    this.#ctx = ctx;
    this.#runtime = ctx.current();
    this.#sourceIp = normalizeIp(stream.session?.socket?.remoteAddress ?? '');
    this.#log = new RequestLog('h2c', this.#runtime, this.#sourceIp, this.#info.method, this.#info.path);
  }

  start(): void {
    const stream = this.#stream;
    stream.on('error', () => { /* 'close' follows */ });
    stream.on('close', () => this.#onClientClose());
    if (this.#info.method === 'CONNECT') {
      this.#answer(badRequest('CONNECT is not supported'));
      return;
    }
    if (this.#info.problem !== null) {
      this.#answer(badRequest(this.#info.problem));
      return;
    }
    this.#receivedId = requestIdOf(this.#info);
    this.#log.requestId = this.#receivedId ?? newRequestId();
    this.#log.traceId = traceIdOf(this.#info);
    const admission = admit(this.#runtime, this.#sourceIp, this.#info);
    this.#log.authz = admission.authz;
    if (admission.kind === 'answer') {
      this.#answer(admission.answer);
      return;
    }
    this.#backend = admission.backend;
    this.#log.backend = admission.backend.backend.service;
    this.#actions = admission.actions;
    this.#runtime.recordAttempt();
    stream.on('data', (chunk: Buffer) => this.#onRequestData(chunk));
    const timeoutMs = this.#actions?.requestTimeoutMs ?? this.#runtime.policy.timeoutMs;
    if (this.#actions?.mirrors) this.#mirrorTargets = takeMirrors(this.#actions.mirrors);
    stream.on('end', () => {
      this.#bodyEnded = true;
      this.#upstream?.end();
      if (timeoutMs === 0) this.#startDefaultTimeout();
      this.#sendMirrors();
    });
    if (timeoutMs > 0) this.#timer = setTimeout(() => this.#onTimeout(timeoutMs), timeoutMs);
    this.#attempt();
  }

  /** The copies of a RequestMirror rule, once the whole request is here (fire-and-forget). */
  #sendMirrors(): void {
    const targets = this.#mirrorTargets;
    if (targets === null || this.#info.target === null) return;
    this.#mirrorTargets = null;
    const actions = this.#actions as RuleActions;
    const mirrors = actions.mirrors as RuleMirrors;
    const source = { identity: this.#log.authz?.identity ?? null, port: this.#runtime };
    // The rule's header edits only: a backendRef's own edits (after the rule's) stay with it.
    this.#ctx.mirrors.h2(targets, source, this.#upstreamHeaders(mirrors.requestHeaders), this.#replayable ? this.#bodyChunks : null);
  }

  #onRequestData(chunk: Buffer): void {
    if (this.#replayable) {
      this.#bodyChunks.push(chunk);
      this.#bodyBytes += chunk.length;
      if (this.#bodyBytes > this.#ctx.limits.maxReplayBodyBytes) this.#replayable = false;
    }
    const upstream = this.#upstream;
    if (upstream !== null && !upstream.write(chunk)) this.#stream.pause();
  }

  #attempt(): void {
    const backend = this.#backend as BackendRuntime;
    const endpoint = backend.pickEndpoint(this.#tried ?? undefined);
    if (endpoint === null) {
      this.#answer(noEndpoint(backend.backend.service));
      return;
    }
    this.#endpoint = endpoint;
    this.#log.endpoint = endpoint.key;
    endpoint.begin();
    this.#startAttemptTimeout(endpoint);
    let upstream: http2.ClientHttp2Stream;
    // Whether the stream could have reached the endpoint: not while its session never connected.
    let sessionUp = false;
    try {
      const path = (this.#ctx.dialer ?? DIRECT_DIALER)(endpoint.endpoint, this.#log.authz?.identity ?? null, this.#runtime);
      if (path.kind === 'refused') throw new Error(path.reason);
      const session = path.kind === 'via'
        ? this.#ctx.upstreams.h2.session(path.key, endpoint.endpoint.ip, endpoint.endpoint.port, path.connect)
        : this.#ctx.upstreams.h2.session(endpoint.key, endpoint.endpoint.ip, endpoint.endpoint.port);
      sessionUp = !session.connecting;
      if (!sessionUp) session.once('connect', () => { sessionUp = true; });
      upstream = session.request(this.#upstreamHeaders(this.#actions?.requestHeaders ?? []), { endStream: false });
    } catch (error) {
      this.#failed(error instanceof Error ? error.message : String(error), false);
      return;
    }
    this.#upstream = upstream;
    let responded = false;
    let trailers: http2.IncomingHttpHeaders | null = null;
    upstream.on('error', () => { /* 'close' follows */ });
    upstream.on('drain', () => this.#stream.resume());
    upstream.on('response', (headers, flags) => {
      responded = true;
      this.#onResponse(upstream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0, () => trailers);
    });
    upstream.on('trailers', (headers) => { trailers = headers; });
    upstream.on('close', () => {
      if (this.#upstream !== upstream) return;
      // REFUSED_STREAM: the endpoint did not process it (RFC 9113 §8.7).
      if (!responded) this.#failed(`stream closed before a response (code ${upstream.rstCode ?? 0})`, sessionUp && upstream.rstCode !== NGHTTP2_REFUSED_STREAM);
      else this.#onUpstreamDone(upstream);
    });
    if (this.#replayable) for (const chunk of this.#bodyChunks) upstream.write(chunk);
    if (this.#bodyEnded) upstream.end();
  }

  /** The request headers for an endpoint, with a Gateway API rule's rewrite and `edits`. */
  #upstreamHeaders(edits: readonly HeaderEdits[]): http2.OutgoingHttpHeaders {
    const incoming = this.#info.headers;
    const headers: http2.OutgoingHttpHeaders = {};
    for (const name of Object.keys(incoming)) {
      if (!CONNECTION_SPECIFIC.has(name)) headers[name] = incoming[name];
    }
    // What was authorized is what is sent: the normalised path.
    headers[':path'] = (this.#info.target as RequestTarget).target;
    const forwardedFor = this.#info.header('x-forwarded-for');
    headers['x-forwarded-for'] = forwardedFor === undefined ? this.#sourceIp : `${forwardedFor}, ${this.#sourceIp}`;
    headers['x-forwarded-proto'] = 'http';
    if (this.#receivedId === null) headers['x-request-id'] = this.#log.requestId;
    const actions = this.#actions;
    if (actions === null) return headers;
    const target = rewrittenTarget(actions, this.#info.path, this.#info.query);
    if (target !== null) headers[':path'] = target;
    if (actions.rewrite?.hostname) headers[':authority'] = actions.rewrite.hostname;
    return editHeaders(headers, edits);
  }

  #onResponse(upstream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders, endStream: boolean, trailers: () => http2.IncomingHttpHeaders | null): void {
    if (this.#done) return;
    const status = Number(headers[':status']);
    if (isGatewayFailure(status) && isIdempotent(this.#info.method) && this.#bodyEnded && this.#mayRetry()) {
      this.#retry(upstream);
      return;
    }
    this.#log.status = status;
    this.#responded = true;
    if (this.#waitsForHead) this.#clearTimer();
    const stream = this.#stream;
    const response: http2.OutgoingHttpHeaders = {};
    for (const name of Object.keys(headers)) {
      if (name === ':status' || (name.charCodeAt(0) !== 0x3a && !CONNECTION_SPECIFIC.has(name))) response[name] = headers[name];
    }
    try {
      stream.respond(editHeaders(response, this.#actions?.responseHeaders ?? []), { endStream, waitForTrailers: !endStream });
    } catch {
      this.#abort();
      return;
    }
    if (endStream) return;
    stream.on('wantTrailers', () => {
      const received = trailers();
      const forwarded: http2.OutgoingHttpHeaders = {};
      if (received !== null) for (const name of Object.keys(received)) if (name.charCodeAt(0) !== 0x3a) forwarded[name] = received[name];
      stream.sendTrailers(forwarded);
    });
    stream.on('drain', () => upstream.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) upstream.pause();
    });
    upstream.on('end', () => stream.end());
  }

  #onUpstreamDone(upstream: http2.ClientHttp2Stream): void {
    this.#upstream = null;
    if (this.#done) return;
    const complete = upstream.rstCode === undefined || upstream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
    if (!complete) {
      // The endpoint reset the stream mid-response.
      this.#log.reason = 'upstream-error';
      this.#stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
    this.#endEndpoint(!complete || isGatewayFailure(this.#log.status));
    this.#finish();
  }

  #mayRetry(): boolean {
    return this.#replayable && this.#log.retries < this.#runtime.policy.retryAttempts && this.#runtime.canRetry();
  }

  #retry(upstream: http2.ClientHttp2Stream | null): void {
    const endpoint = this.#endpoint as EndpointRuntime;
    this.#upstream = null;
    upstream?.close(NGHTTP2_CANCEL);
    this.#endEndpoint(true);
    this.#tried ??= new Set();
    this.#tried.add(endpoint);
    this.#log.retries++;
    this.#attempt();
  }

  /** `reachedEndpoint`: the endpoint may have acted on the request, so only idempotent ones are retried. */
  #failed(detail: string, reachedEndpoint: boolean): void {
    if (this.#done) return;
    if (this.#mayRetry() && (!reachedEndpoint || isIdempotent(this.#info.method))) {
      this.#retry(this.#upstream);
      return;
    }
    this.#closeUpstream(true);
    this.#answer(badGateway(this.#backend?.backend.service ?? serviceName(this.#runtime), detail));
  }

  #onTimeout(timeoutMs: number): void {
    this.#timer = null;
    if (this.#done) return;
    this.#closeUpstream(true);
    if (this.#responded) {
      this.#log.reason = 'timeout';
      this.#stream.close(NGHTTP2_CANCEL);
      this.#finish();
      return;
    }
    this.#answer(upstreamTimeout(this.#runtime, timeoutMs));
  }

  #onClientClose(): void {
    if (this.#done) return;
    this.#closeUpstream(false);
    this.#finish();
  }

  #closeUpstream(failed: boolean): void {
    const upstream = this.#upstream;
    this.#upstream = null;
    upstream?.close(NGHTTP2_CANCEL);
    this.#endEndpoint(failed);
  }

  #startAttemptTimeout(endpoint: EndpointRuntime): void {
    const attemptMs = this.#actions?.attemptTimeoutMs ?? 0;
    if (attemptMs > 0) this.#attemptTimer = setTimeout(() => this.#onAttemptTimeout(endpoint, attemptMs), attemptMs);
  }

  /** A Gateway API `timeouts.backendRequest` ran out for this attempt: retry when allowed, else 504. */
  #onAttemptTimeout(endpoint: EndpointRuntime, timeoutMs: number): void {
    this.#attemptTimer = null;
    if (this.#done || this.#endpoint !== endpoint) return;
    if (!this.#responded && this.#bodyEnded && isIdempotent(this.#info.method) && this.#mayRetry()) {
      this.#retry(this.#upstream);
      return;
    }
    this.#clearTimer();
    this.#onTimeout(timeoutMs);
  }

  #endEndpoint(failed: boolean): void {
    if (this.#attemptTimer !== null) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
    const endpoint = this.#endpoint;
    this.#endpoint = null;
    endpoint?.end(failed);
  }

  #abort(): void {
    this.#closeUpstream(false);
    this.#stream.close(NGHTTP2_CANCEL);
    this.#finish();
  }

  #answer(answer: LocalAnswer): void {
    this.#log.status = answer.status;
    this.#log.reason = answer.reason;
    const stream = this.#stream;
    if (!stream.destroyed && !stream.headersSent) {
      const headers: http2.OutgoingHttpHeaders = { ':status': answer.status, 'content-type': 'text/plain; charset=utf-8' };
      if (answer.location !== undefined) headers['location'] = answer.location;
      if (String(this.#info.headers['content-type'] ?? '').startsWith('application/grpc')) {
        headers['grpc-status'] = grpcStatusFor(answer.status);
        headers['grpc-message'] = encodeURIComponent(answer.body.trim());
      }
      stream.respond(headers);
      stream.end(answer.body);
    }
    this.#responded = true;
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#log.report(this.#ctx.telemetry);
  }

  /** The mesh default (no `plexus.dev/timeout`): from the end of the request to the response head. */
  #startDefaultTimeout(): void {
    const timeoutMs = this.#ctx.limits.requestTimeoutMs;
    if (timeoutMs <= 0 || this.#timer !== null || this.#done || this.#responded) return;
    this.#waitsForHead = true;
    // A static callback with the request as its argument: no closure per request.
    this.#timer = setTimeout(StreamProxy.#defaultTimeoutFired, timeoutMs, this);
  }

  static #defaultTimeoutFired(request: StreamProxy): void {
    request.#onTimeout(request.#ctx.limits.requestTimeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waitsForHead = false;
  }
}
