/**
 * The destination agent's side of an HTTP port's tunnel stream. A stream carries the HTTP/1.1
 * requests of one upstream keep-alive connection of the caller's agent, so of one source
 * identity; here it gets its own connection to the pod. Each request head is parsed with the
 * data plane's parser (request-head.ts: strict framing, the agent's path policy), authorized on
 * its own with the stream's identity, and written as normalised to the pod; bodies and the pod's
 * responses pass through as bytes, scanned only for where they end (body-scanner.ts).
 *
 * One request at a time, as the data plane's client connections: the next head is read once the
 * response to the current one is complete, so an answer of this agent (403, 400, 502) never lands
 * inside a response. A refused or malformed request is answered and ends the stream. A WebSocket
 * upgrade the pod accepts (101) turns the stream into a byte tunnel.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type BodyScanner, responseScanner } from '../node-agent/http/http1/body-scanner.js';
import { type HeadRules, findHead } from '../node-agent/http/http1/head-bytes.js';
import { HeadError } from '../node-agent/http/http1/head-error.js';
import { type RequestHead, parseRequestHead } from '../node-agent/http/http1/request-head.js';
import type { ResponseHead } from '../node-agent/http/http1/response-head.js';
import { writeLocalAnswer } from '../node-agent/http/http1/write-answer.js';
import type { PathPolicy } from '../node-agent/http/request-target.js';
import { type ResponseStart, podRequestHead, readResponseStart, requestBodyScanner } from './gate-messages.js';

/** What the gate asks of the destination agent, for every stream of a node. */
export interface GateOptions {
  readonly paths: PathPolicy;
  /** Largest request head (and chunked trailers) → 431. */
  readonly maxHeaderBytes: number;
  /** A stream with no request in flight for this long is closed (checked once per period: after one to two periods). */
  readonly idleTimeoutMs: number;
  /** The pod must accept within this long → 502. */
  readonly connectTimeoutMs: number;
}

/** Decides one request of the stream (logged and counted by the caller); a reason when refused. */
export type RequestJudge = (request: RequestHead) => string | null;

/** Serves the HTTP/1.1 requests of `stream` to the pod at `host:port`. */
export function serveHttpStream(stream: Duplex, host: string, port: number, judge: RequestJudge, options: GateOptions): void {
  new HttpGate(stream, host, port, judge, options);
}

class HttpGate {
  readonly #stream: Duplex;
  readonly #host: string;
  readonly #port: number;
  readonly #judge: RequestJudge;
  readonly #options: GateOptions;
  readonly #requestHeads: HeadRules;
  readonly #idle: NodeJS.Timeout;
  #pod: Socket | null = null;
  /** Caller bytes not consumed yet (the start of the next request). */
  #pending: Buffer | null = null;
  /** The request forwarded and not yet answered. */
  #request: RequestHead | null = null;
  #requestBody: BodyScanner | null = null;
  /** Pod bytes while its response head is incomplete. */
  #responseHead: Buffer | null = null;
  #responseBody: BodyScanner | null = null;
  #response: ResponseHead | null = null;
  /** Something of the current response went to the caller. */
  #responseStarted = false;
  /** After a 101: bytes both ways, unread. */
  #tunnel = false;
  /** Caller bytes are held until the current response is complete. */
  #holding = false;
  #callerEnded = false;
  #podError: string | null = null;
  #closed = false;
  /** A request started or ended since the idle timer last fired (cheaper than refreshing it per request). */
  #active = false;

  constructor(stream: Duplex, host: string, port: number, judge: RequestJudge, options: GateOptions) {
    this.#stream = stream;
    this.#host = host;
    this.#port = port;
    this.#judge = judge;
    this.#options = options;
    this.#requestHeads = { what: 'request', maxBytes: options.maxHeaderBytes, tooLarge: 431, malformed: 400 };
    this.#idle = setTimeout(HttpGate.#idleFired, options.idleTimeoutMs, this);
    stream.on('data', (chunk: Buffer) => this.#onCallerData(chunk));
    stream.on('end', () => this.#onCallerEnd());
    stream.on('drain', () => this.#pod?.resume());
    stream.on('error', () => stream.destroy());
    stream.on('close', () => this.#onStreamClose());
  }

  /** Every `idleTimeoutMs`: a stream with no request in flight and none since the last time is closed. */
  static #idleFired(gate: HttpGate): void {
    if (gate.#request === null && !gate.#tunnel && !gate.#active) gate.#finish();
    else {
      gate.#active = false;
      gate.#idle.refresh();
    }
  }

  // Caller → pod ---------------------------------------------------------------------------

  #onCallerData(chunk: Buffer): void {
    if (this.#closed) return;
    if (this.#tunnel) {
      this.#toPod(chunk);
      return;
    }
    if (this.#request !== null) {
      const body = this.#requestBody;
      let used = 0;
      if (body !== null && !body.done) {
        used = body.scan(chunk, 0, chunk.length);
        if (body.error !== null) {
          this.#cut();
          return;
        }
        if (used > 0) this.#toPod(used === chunk.length ? chunk : chunk.subarray(0, used));
      }
      if (used < chunk.length) this.#hold(chunk.subarray(used));
      return;
    }
    this.#pending = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#next();
  }

  /** Bytes past the current request wait for its response. */
  #hold(bytes: Buffer): void {
    this.#pending = this.#pending === null ? bytes : Buffer.concat([this.#pending, bytes]);
    this.#holding = true;
    this.#stream.pause();
  }

  /** Starts the next request when its head is complete. */
  #next(): void {
    let pending = this.#pending;
    if (pending === null || this.#request !== null || this.#closed) return;
    let skip = 0;
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    while (skip + 1 < pending.length && pending[skip] === 0x0d && pending[skip + 1] === 0x0a) skip += 2;
    if (skip > 0) pending = skip === pending.length ? null : pending.subarray(skip);
    this.#pending = pending;
    if (pending === null) return;
    let head: RequestHead;
    let headLength: number;
    try {
      headLength = findHead(pending, this.#requestHeads);
      if (headLength === -1) {
        // What is left can never become a complete request.
        if (this.#callerEnded) this.#finish();
        return;
      }
      head = parseRequestHead(pending, headLength, this.#options.paths);
    } catch (error) {
      if (!(error instanceof HeadError)) throw error;
      this.#answer(error.status, `bad request: ${error.message}\n`, false);
      return;
    }
    const refused = this.#judge(head);
    if (refused !== null) {
      this.#answer(403, `forbidden: ${refused}\n`, head.method === 'HEAD');
      return;
    }
    this.#start(head, pending, headLength);
  }

  #start(head: RequestHead, pending: Buffer, headLength: number): void {
    this.#request = head;
    this.#active = true;
    const body = this.#requestBody = requestBodyScanner(head, this.#options.maxHeaderBytes);
    let end = headLength;
    if (body !== null && headLength < pending.length) {
      end = body.scan(pending, headLength, pending.length);
      if (body.error !== null) {
        this.#cut();
        return;
      }
    }
    const rewritten = podRequestHead(head, pending, headLength);
    // Head and body bytes as received leave in one write.
    if (rewritten === null) this.#toPod(end === pending.length ? pending : pending.subarray(0, end));
    else {
      this.#toPod(rewritten);
      if (end > headLength) this.#toPod(pending.subarray(headLength, end));
    }
    this.#pending = null;
    if (end < pending.length) this.#hold(pending.subarray(end));
  }

  #onCallerEnd(): void {
    this.#callerEnded = true;
    if (this.#closed) return;
    if (this.#tunnel) this.#pod?.end();
    else if (this.#request === null) this.#finish();
    // A request body cut short can never complete.
    else if (this.#requestBody !== null && !this.#requestBody.done) this.#cut();
  }

  #toPod(bytes: Buffer): void {
    this.#pod ??= this.#connect();
    if (!this.#pod.write(bytes)) this.#stream.pause();
  }

  #connect(): Socket {
    const pod = tcpConnect({ host: this.#host, port: this.#port, allowHalfOpen: true });
    pod.setNoDelay(true);
    pod.setTimeout(this.#options.connectTimeoutMs, () => pod.destroy(new Error('did not accept in time')));
    pod.once('connect', () => pod.setTimeout(0));
    pod.on('data', (chunk: Buffer) => this.#onPodData(chunk));
    pod.on('drain', () => {
      if (!this.#holding) this.#stream.resume();
    });
    pod.on('end', () => this.#onPodEnd());
    pod.on('error', (error: Error) => {
      this.#podError ??= error.message;
    });
    pod.on('close', () => this.#onPodClose());
    return pod;
  }

  // Pod → caller ---------------------------------------------------------------------------

  #onPodData(chunk: Buffer): void {
    if (this.#closed) return;
    if (this.#tunnel) {
      this.#toCaller(chunk);
      return;
    }
    // Bytes nobody asked for: the pod's framing can no longer be trusted.
    if (this.#request === null) {
      this.#cut();
      return;
    }
    let bytes = chunk;
    let start = 0;
    if (this.#responseBody === null) {
      bytes = this.#responseHead === null ? chunk : Buffer.concat([this.#responseHead, chunk]);
      start = this.#readHead(bytes);
      if (start === -1 || this.#closed) return;
    }
    if (this.#tunnel) {
      this.#toCaller(bytes);
      return;
    }
    const body = this.#responseBody as BodyScanner;
    const end = start === bytes.length ? start : body.scan(bytes, start, bytes.length);
    if (body.error !== null) {
      this.#cut();
      return;
    }
    this.#toCaller(end === bytes.length ? bytes : bytes.subarray(0, end));
    if (!body.done) return;
    if (end < bytes.length) this.#cut();
    else this.#responseDone();
  }

  /** Reads the response heads in `bytes`: where the body starts, or -1 while more bytes are needed (kept) or when it failed. */
  #readHead(bytes: Buffer): number {
    const request = this.#request as RequestHead;
    let start: ResponseStart;
    try {
      start = readResponseStart(bytes, request);
    } catch (error) {
      if (!(error instanceof HeadError)) throw error;
      this.#podFailed(`pod ${this.#host}:${this.#port}: ${error.message}`);
      return -1;
    }
    if (start.kind === 'more') {
      this.#responseHead = start.passed === 0 ? bytes : bytes.subarray(start.passed);
      if (start.passed > 0) {
        this.#responseStarted = true;
        this.#toCaller(bytes.subarray(0, start.passed));
      }
      return -1;
    }
    this.#responseHead = null;
    this.#responseStarted = true;
    if (start.kind === 'switched') this.#becomeTunnel();
    else {
      this.#response = start.head;
      this.#responseBody = responseScanner(request.method, start.head, this.#options.maxHeaderBytes);
    }
    return start.bodyStart;
  }

  #becomeTunnel(): void {
    this.#tunnel = true;
    this.#request = null;
    const pending = this.#pending;
    this.#pending = null;
    this.#holding = false;
    if (pending !== null) this.#toPod(pending);
    if (this.#callerEnded) this.#pod?.end();
    else this.#stream.resume();
  }

  #responseDone(): void {
    const request = this.#request as RequestHead;
    const response = this.#response as ResponseHead;
    this.#request = null;
    this.#requestBody = null;
    this.#response = null;
    this.#responseBody = null;
    this.#responseStarted = false;
    this.#active = true;
    if (!request.keepAlive || !response.keepAlive || (this.#callerEnded && this.#pending === null)) {
      this.#finish();
      return;
    }
    this.#holding = false;
    this.#stream.resume();
    this.#next();
  }

  #toCaller(bytes: Buffer): void {
    if (!this.#stream.write(bytes)) this.#pod?.pause();
  }

  #onPodEnd(): void {
    if (this.#closed) return;
    if (this.#tunnel) {
      this.#stream.end();
      return;
    }
    // A body that ends with the connection ends here.
    if (this.#responseBody !== null && !this.#responseBody.done && this.#response !== null
      && !this.#response.chunked && this.#response.contentLength < 0) {
      this.#finish();
      return;
    }
    this.#onPodFailed('closed the connection');
  }

  #onPodClose(): void {
    if (this.#closed) return;
    // A tunnel whose both sides ended; or an idle connection the pod closed.
    if (this.#tunnel && this.#podError === null) this.#finish();
    else this.#onPodFailed(this.#podError ?? 'closed the connection');
  }

  #onPodFailed(detail: string): void {
    if (this.#closed) return;
    if (this.#request === null && !this.#tunnel) this.#finish();
    else this.#podFailed(`pod ${this.#host}:${this.#port}: ${detail}`);
  }

  /** The pod failed the current request: 502 when nothing of a response went out, else cut. */
  #podFailed(detail: string): void {
    if (this.#responseStarted || this.#tunnel) this.#cut();
    else this.#answer(502, `bad gateway: ${detail}\n`, this.#request?.method === 'HEAD');
  }

  // Ends -------------------------------------------------------------------------------------

  /** This agent's own answer; the stream ends after it. */
  #answer(status: number, body: string, headRequest: boolean): void {
    if (this.#closed) return;
    writeLocalAnswer(this.#stream, status, body, true, headRequest);
    this.#finish();
  }

  /** A clean end: what was written is flushed, then both sides end. */
  #finish(): void {
    if (this.#closed) return;
    this.#close();
    this.#pod?.end();
    this.#stream.end();
  }

  /** Cut in the middle of a message: both sides are reset. */
  #cut(): void {
    if (this.#closed) return;
    this.#close();
    this.#pod?.destroy();
    this.#stream.destroy();
  }

  #close(): void {
    this.#closed = true;
    this.#pending = null;
    this.#responseHead = null;
    clearTimeout(this.#idle);
  }

  #onStreamClose(): void {
    if (!this.#closed) this.#close();
    this.#pod?.destroy();
  }
}
