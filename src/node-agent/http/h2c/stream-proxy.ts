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
import { HeadError } from '../http1/head-error.js';
import { type PathPolicy, type RequestTarget, checkTargetCharacters, normalizeTarget } from '../request-target.js';
import { normalizeIp } from '../../runtime/ip.js';
import type { BackendRuntime, EndpointRuntime, HttpRequestInfo, PortRuntime, RuleActions } from '../../runtime/types.js';
import { editFields, queryOf, rewrittenTarget, type Field } from '../../runtime/rule-actions.js';
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { grpcStatusFor } from './grpc-status.js';
import { DIRECT_DIALER } from '../../runtime/dialer.js';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Fields HTTP/2 forbids or that describe one hop only (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings',
  'proxy-authorization', 'proxy-authenticate', 'x-forwarded-for', 'x-forwarded-proto',
]);

class StreamRequestInfo implements HttpRequestInfo {
  readonly method: string;
  /** The normalised `:path` (sent to the endpoint) and its path; null when it was refused. */
  readonly target: RequestTarget | null;
  /** Why `:path` was refused. */
  readonly problem: string | null;

  constructor(readonly headers: http2.IncomingHttpHeaders, paths: PathPolicy) {
    this.method = String(headers[':method'] ?? 'GET').toUpperCase();
    const raw = String(headers[':path'] ?? '');
    let target: RequestTarget | null = null;
    let problem: string | null = null;
    try {
      // RFC 9113 §8.3.1: `:path` is origin-form, or `*` for OPTIONS.
      if (raw.charCodeAt(0) !== 0x2f && raw !== '*') throw new HeadError(400, 'the :path pseudo-header is not a path');
      checkTargetCharacters(raw);
      target = normalizeTarget(raw, this.method, paths);
    } catch (error) {
      if (!(error instanceof HeadError)) throw error;
      problem = error.message;
    }
    this.target = target;
    this.problem = problem;
  }

  get query(): string {
    return queryOf(this.target?.target ?? '');
  }

  get path(): string {
    return this.target?.path ?? '';
  }

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

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
    stream.on('end', () => {
      this.#bodyEnded = true;
      this.#upstream?.end();
      if (timeoutMs === 0) this.#startDefaultTimeout();
    });
    if (timeoutMs > 0) this.#timer = setTimeout(() => this.#onTimeout(timeoutMs), timeoutMs);
    this.#attempt();
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
      upstream = session.request(this.#upstreamHeaders(), { endStream: false });
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

  #upstreamHeaders(): http2.OutgoingHttpHeaders {
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
    return editHeaders(headers, actions.requestHeaders);
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

  #endEndpoint(failed: boolean): void {
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

/** Applies Gateway API header edits to an h2 header object (pseudo-headers are never edited). */
function editHeaders(headers: http2.OutgoingHttpHeaders, edits: readonly HeaderEdits[]): http2.OutgoingHttpHeaders {
  if (edits.length === 0) return headers;
  const pseudo: http2.OutgoingHttpHeaders = {};
  const fields: Field[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.charCodeAt(0) === 0x3a) pseudo[name] = value;
    else if (Array.isArray(value)) for (const item of value) fields.push({ name, value: String(item) });
    else if (value !== undefined) fields.push({ name, value: String(value) });
  }
  const out = pseudo;
  for (const field of editFields(fields, edits)) {
    const name = field.name.toLowerCase();
    const existing = out[name];
    out[name] = existing === undefined ? field.value : [...(Array.isArray(existing) ? existing : [String(existing)]), field.value];
  }
  return out;
}
