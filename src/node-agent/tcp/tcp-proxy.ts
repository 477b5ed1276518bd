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
import type { Telemetry } from '../telemetry/types.js';
import type { ConnectionHandler, CurrentPort } from '../listeners/connection-handler.js';
import type { AuthzResult, BackendRuntime, EndpointRuntime, PortRuntime } from '../runtime/types.js';
import { normalizeIp } from '../runtime/ip.js';
import type { ConnectionRecord } from '../telemetry/types.js';

export interface TcpProxyContext {
  readonly current: CurrentPort;
  readonly telemetry: Telemetry;
  /** Connect timeout when the Service sets no `timeout`. */
  readonly connectTimeoutMs: number;
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
    new UpstreamConnector(port, route.backend, client, this.#timeout(port), (upstream, endpoint) => {
      if (!upstream || !endpoint) {
        client.destroy();
        report(endpoint ? 'error' : 'no-endpoint', endpoint, route.backend);
        return;
      }
      pipeBothWays(client, upstream, (failed) => {
        endpoint.end(failed);
        report(failed ? 'error' : 'closed', endpoint, route.backend);
      });
    }).attempt();
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

/**
 * Connects to one endpoint after another until one accepts, the attempts run out or the client
 * leaves. Calls `done(upstream, endpoint)` once: `upstream` null = gave up (`endpoint` = the last
 * one tried, or null when there was none to try).
 */
class UpstreamConnector {
  readonly #tried = new Set<EndpointRuntime>();
  #retries = 0;

  constructor(
    readonly port: PortRuntime,
    readonly backend: BackendRuntime,
    readonly client: Socket,
    readonly timeoutMs: number,
    readonly done: (upstream: Socket | null, endpoint: EndpointRuntime | null) => void,
  ) {}

  attempt(last: EndpointRuntime | null = null): void {
    const endpoint = this.#next();
    if (!endpoint) {
      this.done(null, last);
      return;
    }
    this.#tried.add(endpoint);
    endpoint.begin();
    const upstream = connect({
      host: endpoint.endpoint.ip, port: endpoint.endpoint.port, noDelay: true, allowHalfOpen: true,
      timeout: this.timeoutMs,
    });
    let settled = false;
    const clientGone = (): void => fail();
    const fail = (): void => {
      if (settled) return;
      settled = true;
      upstream.removeListener('connect', connected);
      upstream.destroy();
      this.client.removeListener('close', clientGone);
      endpoint.end(true);
      if (this.client.destroyed) this.done(null, endpoint);
      else this.attempt(endpoint);
    };
    const connected = (): void => {
      settled = true;
      upstream.setTimeout(0);
      upstream.removeListener('error', fail);
      upstream.removeListener('timeout', fail);
      this.client.removeListener('close', clientGone);
      this.done(upstream, endpoint);
    };
    upstream.once('connect', connected);
    upstream.once('error', fail);
    upstream.once('timeout', fail);
    this.client.once('close', clientGone);
  }

  /** The first pick, then a retry while allowed: another endpoint first, the same one only for `retryAttempts`. */
  #next(): EndpointRuntime | null {
    if (this.#tried.size === 0) return this.backend.pickEndpoint();
    const allowed = Math.max(this.port.policy.retryAttempts, 1);
    if (this.#retries >= allowed) return null;
    const candidate = this.backend.pickEndpoint(this.#tried);
    if (!candidate) return null;
    if (this.#tried.has(candidate) && this.#retries >= this.port.policy.retryAttempts) return null;
    this.#retries++;
    return candidate;
  }
}

/**
 * Bytes flow both ways; an end from one side ends the other's writes (half-close). `closed` is
 * called once, after both sockets closed; `failed` = either side errored.
 */
function pipeBothWays(client: Socket, upstream: Socket, closed: (failed: boolean) => void): void {
  let failed = false;
  let open = 2;
  const onError = (): void => {
    failed = true;
    client.destroy();
    upstream.destroy();
  };
  const onClose = (): void => {
    if (--open === 0) closed(failed);
  };
  client.on('error', onError);
  upstream.on('error', onError);
  // A side that closes without a FIN (reset) takes the other one down with it.
  client.once('close', (hadError) => (hadError ? onError() : undefined));
  upstream.once('close', (hadError) => (hadError ? onError() : undefined));
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
