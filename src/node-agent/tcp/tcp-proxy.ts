/**
 * TCP proxy: an opaque byte pipe per accepted connection.
 *
 * At accept: who is calling (source IP → identity), may it (ACL: denied → destroyed before a
 * byte is read), where to (route, then the load balancer's endpoint). A failed connect is tried
 * again on another endpoint (up to `retryAttempts` extra attempts, and at least once more when
 * there is another endpoint), with every attempt counted by the circuit breaker. Half-close is
 * respected both ways: a FIN from one side ends the other side's writes and nothing more.
 */
import { connect, type Socket } from 'node:net';
import { EndpointAttempts } from '../attempt/endpoint-attempts.js';
import type { ConnectionHandler, CurrentPort } from '../listeners/connection-handler.js';
import type { Dialer, UpstreamPath, UpstreamSocket } from '../runtime/dialer.js';
import { normalizeIp } from '../runtime/ip.js';
import type { AuthzResult, BackendRuntime, EndpointRuntime, PortRuntime } from '../runtime/types.js';
import type { ConnectionRecord, Telemetry } from '../telemetry/types.js';

export interface TcpProxyContext {
  readonly current: CurrentPort;
  readonly telemetry: Telemetry;
  /** Connect timeout when the Service sets no `timeout`. */
  readonly connectTimeoutMs: number;
  /** Direct, or secure mode's tunnel for endpoints on other nodes. */
  readonly dialer: Dialer;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

type Outcome = ConnectionRecord['outcome'];

export function createTcpHandler(context: TcpProxyContext): ConnectionHandler {
  return new TcpProxy(context);
}

class TcpProxy implements ConnectionHandler {
  readonly #context: TcpProxyContext;
  readonly #sockets = new Set<Socket>();
  readonly #idleWaiters: Array<() => void> = [];

  constructor(context: TcpProxyContext) {
    this.#context = context;
  }

  get activeConnections(): number {
    return this.#sockets.size;
  }

  /** A TCP connection has no exchange to end after: it runs until a side ends it or the drain timeout. */
  closeAfterExchange(): void {
    // nothing to do
  }

  handle(client: Socket): void {
    const started = performance.now();
    const port = this.#context.current();
    const sourceIp = normalizeIp(client.remoteAddress ?? '');
    const authz = port.authorize(sourceIp, null);
    const report = (outcome: Outcome, endpoint: EndpointRuntime | null, backend: BackendRuntime | null): void => {
      this.#context.telemetry.connection(connectionRecord(port, authz, sourceIp, {
        outcome, endpoint, backend, client, started,
      }));
    };
    if (!authz.allowed) {
      client.destroy();
      report('denied', null, null);
      return;
    }
    const route = port.route(null);
    if (route.kind === 'reject') {
      client.destroy();
      report('no-endpoint', null, null);
      return;
    }
    this.#track(client);
    // Until the pipe takes over, a client error only has to end the client.
    client.on('error', () => client.destroy());
    new UpstreamConnector(port, route.backend, client, this.#timeout(port), (endpoint) => this.#context.dialer(endpoint.endpoint, authz.identity, port), (result) => {
      if (result.kind !== 'connected') {
        client.destroy();
        // A client that left while we were connecting ended normally, from its side.
        const outcome = result.kind === 'client-gone' ? 'closed' : result.endpoint ? 'error' : 'no-endpoint';
        report(outcome, result.endpoint, route.backend);
        return;
      }
      const { upstream, endpoint } = result;
      pipeBothWays(client, upstream, (failure) => {
        // Only the endpoint's own failures count against it in the circuit breaker.
        endpoint.end(failure === 'upstream');
        report(failure ? 'error' : 'closed', endpoint, route.backend);
      });
    }).start();
  }

  drain(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  destroy(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  #timeout(port: PortRuntime): number {
    return port.policy.timeoutMs > 0 ? port.policy.timeoutMs : this.#context.connectTimeoutMs;
  }

  #track(client: Socket): void {
    this.#sockets.add(client);
    client.once('close', () => {
      this.#sockets.delete(client);
      if (this.#sockets.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    });
  }
}

type ConnectResult =
  | { readonly kind: 'connected'; readonly upstream: UpstreamSocket; readonly endpoint: EndpointRuntime }
  /** Every attempt failed; `endpoint` = the last one tried, null when there was none to try. */
  | { readonly kind: 'failed'; readonly endpoint: EndpointRuntime | null }
  | { readonly kind: 'client-gone'; readonly endpoint: EndpointRuntime };

/**
 * Connects to one endpoint after another until one accepts, the attempts run out or the client
 * leaves; calls `done` once. The shared attempt controller picks the endpoints and counts each
 * attempt in the circuit breaker; the connect timeout is the socket's.
 */
class UpstreamConnector extends EndpointAttempts {
  constructor(
    readonly port: PortRuntime,
    backend: BackendRuntime,
    readonly client: Socket,
    readonly timeoutMs: number,
    readonly path: (endpoint: EndpointRuntime) => UpstreamPath,
    readonly done: (result: ConnectResult) => void,
  ) {
    super();
    this.backend = backend;
  }

  start(): void {
    const endpoint = this.pickEndpoint();
    if (endpoint === null) this.done({ kind: 'failed', endpoint: null });
    else this.#connect(endpoint);
  }

  /**
   * After a failed connect: at least one retry when another endpoint is left; more, and the
   * same endpoint again, only as far as `retryAttempts` allows.
   */
  #retry(failed: EndpointRuntime): void {
    const retryAttempts = this.port.policy.retryAttempts;
    const sameAllowed = this.retries < retryAttempts;
    if (this.retries >= Math.max(retryAttempts, 1)) {
      this.done({ kind: 'failed', endpoint: failed });
      return;
    }
    this.countRetry(failed);
    const next = this.pickEndpoint();
    if (next === null || (!sameAllowed && this.hasTried(next))) this.done({ kind: 'failed', endpoint: failed });
    else this.#connect(next);
  }

  #connect(endpoint: EndpointRuntime): void {
    this.beginAttempt(endpoint);
    const path = this.path(endpoint);
    if (path.kind === 'refused') {
      // Fail closed (secure mode cannot send it through a tunnel); never counted against the endpoint.
      this.endAttempt(false);
      this.done({ kind: 'failed', endpoint });
      return;
    }
    const upstream: UpstreamSocket = path.kind === 'via'
      ? path.connect()
      : connect({
        host: endpoint.endpoint.ip, port: endpoint.endpoint.port, noDelay: true, allowHalfOpen: true,
        timeout: this.timeoutMs,
      });
    if (path.kind === 'via') upstream.setTimeout(this.timeoutMs);
    let settled = false;
    const settle = (): void => {
      settled = true;
      upstream.removeListener('connect', connected);
      upstream.removeListener('timeout', fail);
      this.client.removeListener('close', clientGone);
    };
    const clientGone = (): void => {
      if (settled) return;
      settle();
      upstream.on('error', () => undefined).destroy();
      this.endAttempt(false);
      this.done({ kind: 'client-gone', endpoint });
    };
    const fail = (): void => {
      if (settled) return;
      settle();
      upstream.destroy();
      this.endAttempt(true);
      this.#retry(endpoint);
    };
    const connected = (): void => {
      settle();
      upstream.setTimeout(0);
      upstream.removeListener('error', fail);
      this.done({ kind: 'connected', upstream, endpoint });
    };
    upstream.once('connect', connected);
    upstream.once('error', fail);
    upstream.once('timeout', fail);
    this.client.once('close', clientGone);
  }
}

/**
 * Bytes flow both ways; an end from one side ends the other's writes (half-close). `closed` is
 * called once, after both sockets closed, with the side that failed first (null: clean end).
 */
function pipeBothWays(client: Socket, upstream: UpstreamSocket, closed: (failure: 'client' | 'upstream' | null) => void): void {
  let failure: 'client' | 'upstream' | null = null;
  let open = 2;
  const failed = (side: 'client' | 'upstream') => (): void => {
    failure ??= side;
    client.destroy();
    upstream.destroy();
  };
  const onClose = (): void => {
    if (--open === 0) closed(failure);
  };
  client.on('error', failed('client'));
  upstream.on('error', failed('upstream'));
  // A side that closes before both its directions ended (reset, or cut by `destroy()`) takes
  // the other one down with it; a clean close leaves the other side to flush what it holds.
  const cut = (socket: Socket | UpstreamSocket, hadError: boolean): boolean => hadError === true || !socket.readableEnded || !socket.writableFinished;
  client.once('close', (hadError: boolean) => (cut(client, hadError) ? failed('client')() : undefined));
  upstream.once('close', (hadError?: boolean) => (cut(upstream, hadError === true) ? failed('upstream')() : undefined));
  client.once('close', onClose);
  upstream.once('close', onClose);
  client.pipe(upstream);
  upstream.pipe(client);
}

function connectionRecord(
  port: PortRuntime,
  authz: AuthzResult,
  sourceIp: string,
  end: {
    outcome: Outcome; endpoint: EndpointRuntime | null; backend: BackendRuntime | null; client: Socket; started: number;
  },
): ConnectionRecord {
  return {
    protocol: 'tcp',
    sourceNamespace: authz.identity?.namespace ?? '',
    sourceIdentity: authz.identity ? `${authz.identity.namespace}/${authz.identity.serviceAccount}` : null,
    sourceIp,
    destinationNamespace: port.service.namespace,
    destinationService: port.service.name,
    destinationPort: port.port.port,
    backend: end.backend?.backend.service ?? null,
    endpoint: end.endpoint?.key ?? null,
    outcome: end.outcome,
    bytesIn: end.client.bytesRead,
    bytesOut: end.client.bytesWritten,
    durationSeconds: (performance.now() - end.started) / 1000,
  };
}
