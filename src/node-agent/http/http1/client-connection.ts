/**
 * One accepted client connection of an HTTP/1.1 listener: finds and parses request heads,
 * runs one ProxiedRequest at a time (pipelined requests wait, in order, with the socket paused)
 * and enforces the head, keep-alive and body timeouts.
 */
import type * as net from 'node:net';
import type { HttpProxyContext } from '../context.js';
import { normalizeIp } from '../../runtime/ip.js';
import { RequestLog } from '../request-log.js';
import { type HeadRules, findHead } from './head-bytes.js';
import { HeadError } from './head-error.js';
import { ProxiedRequest } from './proxied-request.js';
import type { ClientSide } from './response-relay.js';
import { parseRequestHead } from './request-head.js';
import { writeLocalAnswer } from './write-answer.js';

/**
 * After our side ended and every byte was flushed, how long the client has to close its side.
 * A fixed deadline: a client that keeps sending but never closes must not hold the socket by
 * re-arming the inactivity timer.
 */
const CLOSE_LINGER_MS = 2_000;

/** What a connection reports to the handler that tracks it. */
export interface ConnectionOwner {
  readonly draining: boolean;
  /** The listener's request-head rules (one object for all its connections). */
  readonly requestHeads: HeadRules;
  connectionIdle(connection: ClientConnection): void;
  /** The connection became a WebSocket (or other upgraded) tunnel: no longer an HTTP exchange. */
  connectionUpgraded(connection: ClientConnection): void;
  connectionClosed(connection: ClientConnection): void;
}

export class ClientConnection implements ClientSide {
  readonly socket: net.Socket;
  readonly clientIp: string;
  readonly #ctx: HttpProxyContext;
  readonly #owner: ConnectionOwner;
  #pending: Buffer | null = null;
  #request: ProxiedRequest | null = null;
  #headTimer: NodeJS.Timeout | null = null;
  #lingerTimer: NodeJS.Timeout | null = null;
  #parsing = false;
  #closing = false;
  #clientEnded = false;

  constructor(socket: net.Socket, ctx: HttpProxyContext, owner: ConnectionOwner) {
    this.socket = socket;
    this.clientIp = normalizeIp(socket.remoteAddress ?? '');
    this.#ctx = ctx;
    this.#owner = owner;
    socket.setNoDelay(true);
    // A client may half-close after its request and still expect the response: the end of the
    // client's side is handled in #onEnd, whatever the listener's own setting.
    socket.allowHalfOpen = true;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', () => { /* 'close' follows and cleans up */ });
    socket.on('close', () => this.#onClose());
    socket.on('drain', () => this.#request?.onClientDrain());
    socket.on('timeout', () => this.#onSocketTimeout());
    // One inactivity timer for the socket's life (re-armed by every read and write); what a
    // timeout means depends on the state (#onSocketTimeout). The first head has its own deadline.
    socket.setTimeout(ctx.limits.keepAliveTimeoutMs);
    this.#startHeadTimer();
  }

  get draining(): boolean {
    return this.#owner.draining;
  }

  /** No request in flight and no bytes of one received. */
  get idle(): boolean {
    return this.#request === null && this.#pending === null;
  }

  /** Closes the connection if it is idle (used when the listener drains). */
  closeIfIdle(): void {
    if (this.idle) this.#close();
  }

  get tunneling(): boolean {
    return this.#request?.tunneling === true;
  }

  tunnelOpened(): void {
    this.#owner.connectionUpgraded(this);
  }

  takePending(): Buffer | null {
    const pending = this.#pending;
    this.#pending = null;
    return pending;
  }

  /** The client closed its sending side. */
  get ended(): boolean {
    return this.#clientEnded;
  }

  requestDone(keepAlive: boolean): void {
    this.#request = null;
    // A client that half-closed after pipelining requests still gets an answer to each.
    if (!keepAlive || (this.#clientEnded && this.#pending === null) || this.#owner.draining) {
      this.#close();
      return;
    }
    if (!this.#parsing) this.#parseNext();
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    const request = this.#request;
    if (request !== null) {
      if (request.wantsClientData) {
        const used = request.onClientData(chunk, 0);
        if (used < chunk.length && this.#request !== null) this.#hold(chunk.subarray(used));
        else if (used < chunk.length) this.#append(chunk.subarray(used));
      } else {
        this.#hold(chunk);
      }
      if (this.#request !== null) return;
    } else {
      this.#append(chunk);
    }
    this.#parseNext();
  }

  /** Keeps bytes of a later request and stops reading until the current one is done. */
  #hold(bytes: Buffer): void {
    this.#append(bytes);
    this.socket.pause();
  }

  #append(bytes: Buffer): void {
    this.#pending = this.#pending === null ? bytes : Buffer.concat([this.#pending, bytes]);
  }

  #parseNext(): void {
    this.#parsing = true;
    try {
      while (this.#request === null && !this.#closing) {
        if (!this.#startRequest()) break;
      }
    } finally {
      this.#parsing = false;
    }
    if (this.#closing) return;
    if (this.#request === null && this.#clientEnded) {
      // What is left can never become a complete request.
      this.#close();
      return;
    }
    if (this.#request === null) {
      this.socket.resume();
      if (this.#pending === null) this.#becomeIdle();
    }
  }

  /** Parses one request head from the pending bytes and starts it; false when more bytes are needed. */
  #startRequest(): boolean {
    let pending = this.#pending;
    if (pending === null) return false;
    let skip = 0;
    // RFC 9112 §2.2: ignore empty lines before a request line.
    while (skip + 1 < pending.length && pending[skip] === 0x0d && pending[skip + 1] === 0x0a) skip += 2;
    if (skip > 0) pending = this.#pending = skip === pending.length ? null : pending.subarray(skip);
    if (pending === null) return false;
    let request: ProxiedRequest;
    let headLength: number;
    try {
      headLength = findHead(pending, this.#owner.requestHeads);
      if (headLength === -1) {
        this.#startHeadTimer();
        return false;
      }
      this.#stopHeadTimer();
      request = new ProxiedRequest(this, parseRequestHead(pending, headLength, this.#ctx.paths), this.#ctx);
    } catch (error) {
      if (!(error instanceof HeadError)) throw error;
      this.#reject(error.status, error.message);
      return false;
    }
    this.#request = request;
    let used = headLength;
    if (headLength < pending.length) used = request.onClientData(pending, headLength);
    this.#pending = used < pending.length ? pending.subarray(used) : null;
    if (this.#request === null || this.#closing) return true;
    if (this.#pending !== null) this.socket.pause();
    request.start();
    return true;
  }

  #becomeIdle(): void {
    this.#owner.connectionIdle(this);
  }

  #startHeadTimer(): void {
    if (this.#headTimer !== null) return;
    this.#headTimer = setTimeout(headTimedOut, this.#ctx.limits.headersTimeoutMs, this);
  }

  /** The head timer fired (headTimedOut). */
  headTimerFired(): void {
    this.#headTimer = null;
    if (this.#request !== null) return;
    // A connection that never sent a byte is just closed.
    if (this.#pending === null) this.#close();
    else this.#reject(408, 'request head not received in time');
  }

  #stopHeadTimer(): void {
    if (this.#headTimer === null) return;
    clearTimeout(this.#headTimer);
    this.#headTimer = null;
  }

  #onSocketTimeout(): void {
    const request = this.#request;
    // A client that does not close after the last response, or a stalled request body.
    if (this.#closing || (request !== null && request.wantsClientData && !request.tunneling)) this.socket.destroy();
    // Idle between requests.
    else if (request === null) this.#close();
    // Otherwise the request waits for its endpoint (bounded by the policy timeout) or is a tunnel.
  }

  /** Answers a malformed or too slow request, reports it, and closes the connection. */
  #reject(status: 400 | 408 | 431 | 502, reason: string): void {
    if (this.#closing) return;
    writeLocalAnswer(this.socket, status, `${reason}\n`, true, false);
    // Method and path are unknown: the head was never parsed.
    const log = new RequestLog('http', this.#ctx.current(), this.clientIp, '', '');
    log.status = status;
    log.reason = REJECT_REASONS[status];
    log.report(this.#ctx.telemetry);
    this.#close();
  }

  #onEnd(): void {
    this.#clientEnded = true;
    const request = this.#request;
    if (request !== null) request.onClientEnd();
    else this.#close();
  }

  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stopHeadTimer();
    this.#pending = null;
    this.socket.end(() => {
      if (!this.socket.destroyed) this.#lingerTimer = setTimeout(destroySocket, CLOSE_LINGER_MS, this.socket);
    });
  }

  #onClose(): void {
    this.#stopHeadTimer();
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#closing = true;
    const request = this.#request;
    this.#request = null;
    request?.onClientGone();
    this.#owner.connectionClosed(this);
  }
}

// Timer callbacks take their object as an argument: no closure per connection.
function headTimedOut(connection: ClientConnection): void {
  connection.headTimerFired();
}

function destroySocket(socket: net.Socket): void {
  socket.destroy();
}

const REJECT_REASONS = { 400: 'bad-request', 408: 'header-timeout', 431: 'header-too-large', 502: 'upstream-error' } as const;
