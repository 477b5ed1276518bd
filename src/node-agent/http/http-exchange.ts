/**
 * The attempt controller of one HTTP exchange (an HTTP/1.1 request or an h2c stream), shared by
 * both protocols. Over the attempt, retry and circuit-breaker layers of
 * `attempt/endpoint-attempts.ts` it adds, in the order a request meets them:
 *
 *   admission  authorization, rate limit, route (`admission.ts`) → a backend, or a local answer
 *   timeout    the request's deadline (the rule's or the Service's timeout; without one the
 *              mesh default, from the end of the request to the response head), and each
 *              attempt's (Gateway API `timeouts.backendRequest`)
 *   retry      which failures are retried: a failed connection or stream, an attempt timeout,
 *              a 502/503/504 answer; only while the body can be sent again, within the Service's
 *              retry attempts and the retry budget, and never a non-idempotent request that may
 *              have reached its endpoint
 *   log        one RequestRecord per exchange (`request-log.ts`), written when it ends
 *
 * ProxiedRequest (HTTP/1.1) and StreamProxy (h2c) extend it with what their protocol does:
 * send an attempt, answer locally, cut a response already started. Timers take the exchange as
 * an argument (no closure per request).
 */
import { EndpointAttempts } from '../attempt/endpoint-attempts.js';
import type { UpstreamPath } from '../runtime/dialer.js';
import { DIRECT_DIALER } from '../runtime/dialer.js';
import type { BackendRuntime, EndpointRuntime, HttpRequestInfo, MirrorTarget, PortRuntime, RuleActions } from '../runtime/types.js';
import type { RequestRecord } from '../telemetry/types.js';
import { newRequestId, traceIdOf } from '../telemetry/trace-context.js';
import { admit, isGatewayFailure, isIdempotent } from './admission.js';
import type { HttpProxyContext } from './context.js';
import { type LocalAnswer, badGateway, noEndpoint, serviceName, upstreamTimeout } from './local-answers.js';
import { takeMirrors } from './mirror/mirror-sender.js';
import { RequestLog } from './request-log.js';

export abstract class HttpExchange extends EndpointAttempts {
  protected readonly ctx: HttpProxyContext;
  /** The runtime of the config the exchange started with. */
  protected readonly runtime: PortRuntime;
  protected readonly log: RequestLog;
  protected readonly method: string;
  /** Gateway API rule filters and timeouts; null for other routes. */
  protected actions: RuleActions | null = null;
  /** Answered, completed, cut or abandoned, and logged. */
  protected done = false;
  /** RequestMirror targets copying this request, sent once its body is complete. */
  protected mirrorTargets: MirrorTarget[] | null = null;
  /** False for a request that can never be sent twice (an HTTP/1.1 upgrade). */
  readonly #retriable: boolean;
  #timer: NodeJS.Timeout | null = null;
  #timeoutMs = 0;
  /** `#timer` is the mesh default timeout, which ends with the response head. */
  #waitsForHead = false;
  #attemptTimer: NodeJS.Timeout | null = null;

  constructor(ctx: HttpProxyContext, protocol: RequestRecord['protocol'], sourceIp: string, method: string, path: string, retriable: boolean) {
    super();
    this.ctx = ctx;
    this.runtime = ctx.current();
    this.method = method;
    this.#retriable = retriable;
    this.log = new RequestLog(protocol, this.runtime, sourceIp, method, path);
  }

  /** The whole request body is in hand (none, or its end was read). */
  protected abstract get bodyDone(): boolean;
  /** Something of the endpoint's response (or a local answer) reached the client. */
  protected abstract get responseStarted(): boolean;
  /** Everything sent so far can be sent again to another endpoint. */
  protected abstract get canResend(): boolean;
  /** Sends an attempt to `endpoint` along `path` (the dialer's choice: direct, tunnel or refused). */
  protected abstract send(endpoint: EndpointRuntime, path: UpstreamPath): void;
  /** Drops the attempt's upstream connection or stream and ends the attempt. */
  protected abstract abortUpstream(failed: boolean): void;
  /** The proxy answers itself (nothing of a response reached the client yet), and the exchange ends. */
  protected abstract answer(answer: LocalAnswer): void;
  /** The client's side is cut in the middle of a response, and the exchange ends. */
  protected abstract cutResponse(): void;
  /** Resets what an attempt left behind before the next one. */
  protected prepareRetry(): void {
    // Nothing by default.
  }

  /**
   * Admission: authorization, rate limit, route. False when the exchange was answered here;
   * otherwise the backend is chosen and the request's deadline runs.
   */
  protected admit(request: HttpRequestInfo, sourceIp: string, receivedId: string | null, mirrored: boolean): boolean {
    this.log.requestId = receivedId ?? newRequestId();
    this.log.traceId = traceIdOf(request);
    const admission = admit(this.runtime, sourceIp, request);
    this.log.authz = admission.authz;
    if (admission.kind === 'answer') {
      this.answer(admission.answer);
      return false;
    }
    this.backend = admission.backend;
    this.log.backend = admission.backend.backend.service;
    this.actions = admission.actions;
    this.runtime.recordAttempt();
    if (mirrored && admission.actions?.mirrors) this.mirrorTargets = takeMirrors(admission.actions.mirrors);
    const timeoutMs = admission.actions?.requestTimeoutMs ?? this.runtime.policy.timeoutMs;
    if (timeoutMs > 0) this.#startTimer(timeoutMs, false);
    else if (this.bodyDone) this.startDefaultTimeout();
    return true;
  }

  /** The next attempt, on the load balancer's endpoint (503 when there is none). */
  protected attempt(): void {
    const endpoint = this.pickEndpoint();
    if (endpoint === null) {
      this.answer(noEndpoint((this.backend as BackendRuntime).backend.service));
      return;
    }
    this.attemptOn(endpoint);
  }

  /** An attempt on `endpoint` (also a resend to the same endpoint on a fresh connection). */
  protected attemptOn(endpoint: EndpointRuntime): void {
    this.beginAttempt(endpoint);
    this.log.endpoint = endpoint.key;
    const attemptMs = this.actions?.attemptTimeoutMs ?? 0;
    if (attemptMs > 0) this.#attemptTimer = setTimeout(HttpExchange.#attemptTimeoutFired, attemptMs, this, endpoint, attemptMs);
    this.send(endpoint, (this.ctx.dialer ?? DIRECT_DIALER)(endpoint.endpoint, this.log.authz?.identity ?? null, this.runtime));
  }

  protected override endAttempt(failed: boolean): void {
    if (this.#attemptTimer !== null) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
    super.endAttempt(failed);
  }

  /** Whether a retry is allowed now, `replayPossible` saying the request can be sent again. */
  protected mayRetry(replayPossible: boolean): boolean {
    return replayPossible && this.#retriable && this.retries < this.runtime.policy.retryAttempts && this.runtime.canRetry();
  }

  /** Whether an endpoint's answer with `status` is retried instead of passed on. */
  protected retriesStatus(status: number): boolean {
    return isGatewayFailure(status) && isIdempotent(this.method) && this.bodyDone && this.mayRetry(this.canResend);
  }

  /** Another attempt after the one on `failed` (already ended). */
  protected retry(failed: EndpointRuntime): void {
    this.countRetry(failed);
    this.log.retries = this.retries;
    this.prepareRetry();
    this.attempt();
  }

  /** The attempt in progress failed, counted against its endpoint; another one follows. */
  protected retryNow(): void {
    const endpoint = this.endpoint as EndpointRuntime;
    this.abortUpstream(true);
    this.retry(endpoint);
  }

  /**
   * The attempt in progress failed before a response (`reachedEndpoint`: the request may have
   * been acted on): retried when allowed, else 502.
   */
  protected attemptFailed(detail: string, reachedEndpoint: boolean): void {
    if (this.done) return;
    const endpoint = this.endpoint;
    this.abortUpstream(true);
    if (endpoint !== null && this.mayRetry(this.canResend && (!reachedEndpoint || isIdempotent(this.method)))) {
      this.retry(endpoint);
      return;
    }
    this.answer(badGateway(this.backend?.backend.service ?? serviceName(this.runtime), detail));
  }

  /** The response head arrived: the mesh default timeout, which waits for it, is over. */
  protected responseHeadArrived(): void {
    if (this.#waitsForHead) this.clearTimer();
  }

  /** The mesh default (no `plexus.dev/timeout`): from the end of the request to the response head. */
  protected startDefaultTimeout(): void {
    const timeoutMs = this.ctx.limits.requestTimeoutMs;
    if (timeoutMs <= 0 || this.#timer !== null || this.done || this.responseStarted) return;
    this.#startTimer(timeoutMs, true);
  }

  protected clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waitsForHead = false;
  }

  /** Ends the exchange and writes its record; false when it had ended already. */
  protected finishExchange(): boolean {
    if (this.done) return false;
    this.done = true;
    this.clearTimer();
    this.log.report(this.ctx.telemetry);
    return true;
  }

  #startTimer(timeoutMs: number, waitsForHead: boolean): void {
    this.#timeoutMs = timeoutMs;
    this.#waitsForHead = waitsForHead;
    this.#timer = setTimeout(HttpExchange.#timeoutFired, timeoutMs, this);
  }

  static #timeoutFired(exchange: HttpExchange): void {
    exchange.#timer = null;
    exchange.#onTimeout(exchange.#timeoutMs);
  }

  #onTimeout(timeoutMs: number): void {
    if (this.done) return;
    this.abortUpstream(true);
    if (this.responseStarted) {
      this.log.reason = 'timeout';
      this.cutResponse();
      return;
    }
    this.answer(upstreamTimeout(this.runtime, timeoutMs));
  }

  /** A Gateway API `timeouts.backendRequest` ran out for this attempt: retry when allowed, else 504. */
  static #attemptTimeoutFired(exchange: HttpExchange, endpoint: EndpointRuntime, timeoutMs: number): void {
    exchange.#attemptTimer = null;
    if (exchange.done || exchange.endpoint !== endpoint) return;
    if (!exchange.responseStarted && exchange.bodyDone && isIdempotent(exchange.method) && exchange.mayRetry(exchange.canResend)) {
      exchange.retryNow();
      return;
    }
    exchange.clearTimer();
    exchange.#onTimeout(timeoutMs);
  }
}
