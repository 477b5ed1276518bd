/**
 * The connection side of one HTTP/1.1 exchange, beneath ProxiedRequest (its request side): the
 * client connection's events, the endpoint connection's events (`UpstreamOwner`), the response
 * read and relayed with its framing (which decides whether the endpoint connection goes back to
 * the pool and whether the client's stays open), a WebSocket tunnel once the endpoint switched
 * protocols, and local answers. The attempt controller (`../http-exchange.ts`) is beneath both.
 */
import type * as net from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import type { HttpProxyContext } from '../context.js';
import { HttpExchange } from '../http-exchange.js';
import { type LocalAnswer, badGateway } from '../local-answers.js';
import { isGatewayFailure } from '../admission.js';
import { type BodyScanner, CloseDelimitedScanner, responseScanner } from './body-scanner.js';
import type { UpstreamConnection, UpstreamOwner } from './connection-pool.js';
import { RESPONSE_HEAD_RULES, findHead } from './head-bytes.js';
import { HeadError } from './head-error.js';
import type { RequestHead } from './request-head.js';
import { type ResponseHead, parseResponseHead } from './response-head.js';
import { serializeResponseHead } from './serialize.js';
import { checkSwitchingProtocols } from './upgrade.js';
import { writeLocalAnswer } from './write-answer.js';

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
export function writeHeadAndBody(socket: Writable, head: string, body: readonly Buffer[], bodyBytes: number): boolean {
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

export abstract class ResponseRelay extends HttpExchange implements UpstreamOwner {
  protected readonly client: ClientSide;
  protected readonly head: RequestHead;
  /** The endpoint connection of the attempt in progress. */
  protected upstream: UpstreamConnection | null = null;
  #responseSeen = false;
  #responsePending: Buffer | null = null;
  #response: ResponseHead | null = null;
  #responseScanner: BodyScanner | null = null;
  #responseStarted = false;
  #interimResponses = 0;
  #clientKeepAlive = false;
  #upstreamReusable = true;
  #tunnel = false;

  constructor(client: ClientSide, head: RequestHead, ctx: HttpProxyContext) {
    // An upgrade request is never sent twice.
    super(ctx, 'http', client.clientIp, head.method, head.path, !head.upgrade);
    this.client = client;
    this.head = head;
  }

  /** The endpoint connection failed before a response (`reachedEndpoint`: the request was written to it). */
  protected abstract upstreamFailed(detail: string, reachedEndpoint: boolean): void;

  get tunneling(): boolean {
    return this.#tunnel;
  }

  /** The client connection closed. */
  onClientGone(): void {
    if (this.done) return;
    if (this.#tunnel) {
      // Nobody is left to read the endpoint's side: flush what the client sent, then close.
      const upstream = this.upstream?.socket;
      if (upstream !== undefined) endThenDestroy(upstream);
      this.#closeTunnel();
      return;
    }
    this.abortUpstream(false);
    this.finish(false);
  }

  /** The client connection can take more bytes. */
  onClientDrain(): void {
    if (this.upstream !== null && (this.#responseStarted || this.#tunnel)) this.upstream.socket.resume();
  }

  onClientEnd(): void {
    if (this.#tunnel) {
      this.upstream?.socket.end();
      return;
    }
    // No more bytes will come: a body still incomplete can never be forwarded whole.
    if (!this.bodyDone && !this.done) this.failClientBody('the client closed its side before the request body was complete');
  }

  // UpstreamOwner ---------------------------------------------------------------------------

  onUpstreamData(chunk: Buffer): void {
    if (this.#tunnel) {
      if (!this.client.socket.write(chunk)) this.upstream?.socket.pause();
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
      this.client.socket.end();
      return;
    }
    this.#upstreamEnded();
  }

  onUpstreamClose(error: Error | null): void {
    if (this.#tunnel) {
      this.upstream = null;
      this.client.socket.destroySoon();
      this.#closeTunnel();
      return;
    }
    // #upstream stays set so a failure can tell a reused connection (destroying it again is harmless).
    this.#upstreamEnded(error);
  }

  onUpstreamDrain(): void {
    if (this.#tunnel || !this.bodyDone) this.client.socket.resume();
  }

  protected writeUpstream(piece: Buffer): void {
    const upstream = this.upstream;
    if (upstream !== null && !upstream.socket.write(piece)) this.client.socket.pause();
  }

  protected get responseStarted(): boolean {
    return this.#responseStarted;
  }

  protected override prepareRetry(): void {
    this.#responseSeen = false;
    this.#responsePending = null;
  }

  protected cutResponse(): void {
    this.client.socket.destroy();
    this.finish(false);
  }

  protected abortUpstream(failed: boolean): void {
    const connection = this.upstream;
    this.upstream = null;
    connection?.destroy();
    this.endAttempt(failed);
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
        if (response.status === 101 && this.head.upgrade) checkSwitchingProtocols(response.fields);
      } catch (error) {
        this.#badResponse(error instanceof HeadError ? error.message : String(error));
        return;
      }
      if (response.status === 101) {
        if (this.head.upgrade) this.#openTunnel(response, buffer, headLength);
        else this.#badResponse('101 Switching Protocols without an Upgrade request');
        return;
      }
      if (response.status < 200) {
        if (++this.#interimResponses > MAX_INTERIM_RESPONSES) {
          this.#badResponse(`more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
          return;
        }
        // Interim responses (100 Continue, 103 Early Hints) go to the client as they are.
        this.client.socket.write(serializeResponseHead(response, false, false), 'latin1');
        if (headLength === buffer.length) return;
        buffer = buffer.subarray(headLength);
        continue;
      }
      this.#startResponse(response, buffer, headLength);
      return;
    }
  }

  #startResponse(response: ResponseHead, buffer: Buffer, bodyStart: number): void {
    if (this.retriesStatus(response.status)) {
      this.retryNow();
      return;
    }
    this.responseHeadArrived();
    this.#response = response;
    const scanner = responseScanner(this.head.method, response, RESPONSE_HEAD_RULES.maxBytes);
    this.#responseScanner = scanner;
    // An upgrade the endpoint did not take leaves doubt about what it read after the head: no reuse.
    this.#upstreamReusable = response.keepAlive && this.head.minorVersion === 1 && !this.head.upgrade && !(scanner instanceof CloseDelimitedScanner);
    this.#clientKeepAlive = this.head.keepAlive && this.head.minorVersion === 1 && !this.head.upgrade &&
      this.bodyDone && !this.client.draining && !(scanner instanceof CloseDelimitedScanner);
    this.log.status = response.status;
    this.#responseStarted = true;
    const head = serializeResponseHead(response, !this.#clientKeepAlive, false, this.actions?.responseHeaders);
    if (scanner.done || bodyStart === buffer.length) {
      this.client.socket.write(head, 'latin1');
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
      this.log.reason = 'upstream-error';
      this.abortUpstream(true);
      this.cutResponse();
      return;
    }
    const piece = end === start ? null : start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
    const client = this.client.socket;
    let ok: boolean;
    if (head === null) ok = piece === null || client.write(piece);
    else ok = piece === null ? client.write(head, 'latin1') : writeHeadAndBody(client, head, [piece], piece.length);
    if (!ok) this.upstream?.socket.pause();
    if (!scanner.done) return;
    if (end < buffer.length) this.#upstreamReusable = false;
    this.#completeResponse();
  }

  /** The endpoint's side ended (FIN or close) while this request owned the connection. */
  #upstreamEnded(error: Error | null = null): void {
    if (this.done) return;
    if (!this.#responseSeen) {
      this.upstreamFailed(error?.message ?? 'the endpoint closed the connection before responding', true);
      return;
    }
    if (this.#responseScanner instanceof CloseDelimitedScanner) {
      this.#upstreamReusable = false;
      this.#completeResponse();
      return;
    }
    // Cut off in the middle of a response.
    const started = this.#responseStarted;
    this.abortUpstream(true);
    if (!started) {
      this.answer(badGateway(this.backend?.backend.service ?? '', 'the endpoint closed the connection mid-response'));
      return;
    }
    this.log.reason = 'upstream-error';
    this.cutResponse();
  }

  #badResponse(detail: string): void {
    this.abortUpstream(true);
    this.answer(badGateway(this.backend?.backend.service ?? '', detail));
  }

  #completeResponse(): void {
    const connection = this.upstream;
    this.upstream = null;
    if (connection !== null) {
      connection.socket.resume();
      if (this.#upstreamReusable && this.bodyDone) this.ctx.upstreams.http1.release(connection);
      else connection.destroy();
    }
    this.endAttempt(isGatewayFailure(this.log.status));
    this.finish(this.#clientKeepAlive);
  }

  #openTunnel(response: ResponseHead, buffer: Buffer, headLength: number): void {
    this.#tunnel = true;
    this.#responseStarted = true;
    this.log.protocol = 'websocket';
    this.log.status = 101;
    this.clearTimer();
    const client = this.client.socket;
    client.write(serializeResponseHead(response, false, true), 'latin1');
    if (headLength < buffer.length) client.write(buffer.subarray(headLength));
    const pending = this.client.takePending();
    if (pending !== null) this.writeUpstream(pending);
    // The client half-closed before the switch: pass its end on once its bytes are out.
    if (this.client.ended) this.upstream?.socket.end();
    client.resume();
    this.client.tunnelOpened();
  }

  #closeTunnel(): void {
    if (this.done) return;
    this.endAttempt(false);
    this.finishExchange();
  }

  /** The proxy answers itself (nothing from an endpoint reached the client yet). */
  protected answer(answer: LocalAnswer): void {
    this.abortUpstream(false);
    this.log.status = answer.status;
    this.log.reason = answer.reason;
    const keepAlive = this.head.keepAlive && this.head.minorVersion === 1 && !this.head.upgrade && this.bodyDone && !this.client.draining;
    this.#responseStarted = true;
    writeLocalAnswer(this.client.socket, answer.status, answer.body, !keepAlive, this.head.method === 'HEAD', answer.location);
    this.finish(keepAlive);
  }

  protected failClientBody(reason: string): void {
    if (this.done) return;
    this.abortUpstream(false);
    if (this.#responseStarted) {
      this.log.reason = 'bad-request';
      this.cutResponse();
      return;
    }
    this.log.status = 400;
    this.log.reason = 'bad-request';
    writeLocalAnswer(this.client.socket, 400, `bad request: ${reason}\n`, true, false);
    this.finish(false);
  }

  protected finish(keepAlive: boolean): void {
    if (this.finishExchange()) this.client.requestDone(keepAlive);
  }
}

/** Ends `socket` and destroys it once what it holds is written (net.Socket's `destroySoon`, for any Duplex). */
function endThenDestroy(socket: Duplex): void {
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end();
}
