/**
 * One HTTP/2 stream from an h2c client, forwarded as a stream on the chosen endpoint's session:
 * the same admission, endpoint choice, retries, timeout and telemetry as HTTP/1.1, with
 * trailers (gRPC status) passed through. The request body is kept for a replay while it fits
 * in `maxReplayBodyBytes`.
 */
import * as http2 from 'node:http2';
import { isGatewayFailure } from '../admission.js';
import type { HttpProxyContext } from '../context.js';
import { HttpExchange } from '../http-exchange.js';
import { type LocalAnswer, badRequest } from '../local-answers.js';
import { requestIdOf } from '../../telemetry/trace-context.js';
import type { RequestTarget } from '../request-target.js';
import type { UpstreamPath } from '../../runtime/dialer.js';
import { normalizeIp } from '../../runtime/ip.js';
import type { EndpointRuntime, RuleActions, RuleMirrors } from '../../runtime/types.js';
import { rewrittenTarget } from '../../runtime/rule-actions.js';
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { grpcStatusFor } from './grpc-status.js';
import { CONNECTION_SPECIFIC, StreamRequestInfo, editHeaders } from './stream-headers.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

export function proxyStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ctx: HttpProxyContext): void {
  new StreamProxy(stream, new StreamRequestInfo(headers, ctx.paths), normalizeIp(stream.session?.socket?.remoteAddress ?? ''), ctx).start();
}

/** The h2c side of the attempt controller (`../http-exchange.ts`): an attempt is a stream on the endpoint's session. */
class StreamProxy extends HttpExchange {
  readonly #stream: http2.ServerHttp2Stream;
  readonly #info: StreamRequestInfo;
  readonly #sourceIp: string;
  #upstream: http2.ClientHttp2Stream | null = null;
  #bodyChunks: Buffer[] = [];
  #bodyBytes = 0;
  #replayable = true;
  #bodyEnded = false;
  #responded = false;
  /** The client's `x-request-id`; null when the agent adds one. */
  #receivedId: string | null = null;

  constructor(stream: http2.ServerHttp2Stream, info: StreamRequestInfo, sourceIp: string, ctx: HttpProxyContext) {
    super(ctx, 'h2c', sourceIp, info.method, info.path, true);
    this.#stream = stream;
    this.#info = info;
    this.#sourceIp = sourceIp;
  }

  start(): void {
    const stream = this.#stream;
    stream.on('error', () => { /* 'close' follows */ });
    stream.on('close', () => this.#onClientClose());
    if (this.#info.method === 'CONNECT') {
      this.answer(badRequest('CONNECT is not supported'));
      return;
    }
    if (this.#info.problem !== null) {
      this.answer(badRequest(this.#info.problem));
      return;
    }
    this.#receivedId = requestIdOf(this.#info);
    if (!this.admit(this.#info, this.#sourceIp, this.#receivedId, true)) return;
    stream.on('data', (chunk: Buffer) => this.#onRequestData(chunk));
    stream.on('end', () => {
      this.#bodyEnded = true;
      this.#upstream?.end();
      this.startDefaultTimeout();
      this.#sendMirrors();
    });
    this.attempt();
  }

  /** The copies of a RequestMirror rule, once the whole request is here (fire-and-forget). */
  #sendMirrors(): void {
    const targets = this.mirrorTargets;
    if (targets === null || this.#info.target === null) return;
    this.mirrorTargets = null;
    const actions = this.actions as RuleActions;
    const mirrors = actions.mirrors as RuleMirrors;
    const source = { identity: this.log.authz?.identity ?? null, port: this.runtime };
    // The rule's header edits only: a backendRef's own edits (after the rule's) stay with it.
    this.ctx.mirrors.h2(targets, source, this.#upstreamHeaders(mirrors.requestHeaders), this.#replayable ? this.#bodyChunks : null);
  }

  #onRequestData(chunk: Buffer): void {
    if (this.#replayable) {
      this.#bodyChunks.push(chunk);
      this.#bodyBytes += chunk.length;
      if (this.#bodyBytes > this.ctx.limits.maxReplayBodyBytes) this.#replayable = false;
    }
    const upstream = this.#upstream;
    if (upstream !== null && !upstream.write(chunk)) this.#stream.pause();
  }

  /** Opens a stream for the request on the endpoint's session (or the tunnel's). */
  protected send(endpoint: EndpointRuntime, path: UpstreamPath): void {
    let upstream: http2.ClientHttp2Stream;
    // Whether the stream could have reached the endpoint: not while its session never connected.
    let sessionUp = false;
    try {
      if (path.kind === 'refused') throw new Error(path.reason);
      const session = path.kind === 'via'
        ? this.ctx.upstreams.h2.session(path.key, endpoint.endpoint.ip, endpoint.endpoint.port, path.connect)
        : this.ctx.upstreams.h2.session(endpoint.key, endpoint.endpoint.ip, endpoint.endpoint.port);
      sessionUp = !session.connecting;
      if (!sessionUp) session.once('connect', () => { sessionUp = true; });
      upstream = session.request(this.#upstreamHeaders(this.actions?.requestHeaders ?? []), { endStream: false });
    } catch (error) {
      this.attemptFailed(error instanceof Error ? error.message : String(error), false);
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
      if (!responded) this.attemptFailed(`stream closed before a response (code ${upstream.rstCode ?? 0})`, sessionUp && upstream.rstCode !== NGHTTP2_REFUSED_STREAM);
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
    if (this.#receivedId === null) headers['x-request-id'] = this.log.requestId;
    const actions = this.actions;
    if (actions === null) return headers;
    const target = rewrittenTarget(actions, this.#info.path, this.#info.query);
    if (target !== null) headers[':path'] = target;
    if (actions.rewrite?.hostname) headers[':authority'] = actions.rewrite.hostname;
    return editHeaders(headers, edits);
  }

  #onResponse(upstream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders, endStream: boolean, trailers: () => http2.IncomingHttpHeaders | null): void {
    if (this.done) return;
    const status = Number(headers[':status']);
    if (this.retriesStatus(status)) {
      this.retryNow();
      return;
    }
    this.log.status = status;
    this.#responded = true;
    this.responseHeadArrived();
    const stream = this.#stream;
    const response: http2.OutgoingHttpHeaders = {};
    for (const name of Object.keys(headers)) {
      if (name === ':status' || (name.charCodeAt(0) !== 0x3a && !CONNECTION_SPECIFIC.has(name))) response[name] = headers[name];
    }
    try {
      stream.respond(editHeaders(response, this.actions?.responseHeaders ?? []), { endStream, waitForTrailers: !endStream });
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
    if (this.done) return;
    const complete = upstream.rstCode === undefined || upstream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
    if (!complete) {
      // The endpoint reset the stream mid-response.
      this.log.reason = 'upstream-error';
      this.#stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
    this.endAttempt(!complete || isGatewayFailure(this.log.status));
    this.finishExchange();
  }

  #onClientClose(): void {
    if (this.done) return;
    this.abortUpstream(false);
    this.finishExchange();
  }

  protected abortUpstream(failed: boolean): void {
    const upstream = this.#upstream;
    this.#upstream = null;
    upstream?.close(NGHTTP2_CANCEL);
    this.endAttempt(failed);
  }

  #abort(): void {
    this.abortUpstream(false);
    this.#stream.close(NGHTTP2_CANCEL);
    this.finishExchange();
  }

  protected answer(answer: LocalAnswer): void {
    this.log.status = answer.status;
    this.log.reason = answer.reason;
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
    this.finishExchange();
  }

  protected get bodyDone(): boolean {
    return this.#bodyEnded;
  }

  protected get responseStarted(): boolean {
    return this.#responded;
  }

  protected get canResend(): boolean {
    return this.#replayable;
  }

  protected cutResponse(): void {
    this.#stream.close(NGHTTP2_CANCEL);
    this.finishExchange();
  }
}
