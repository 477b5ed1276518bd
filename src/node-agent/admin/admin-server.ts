/**
 * The agent's admin port (node:http). Read-only: GET and HEAD. Two kinds of endpoint:
 *
 * - **public** — `/metrics` (Prometheus text), `/healthz` (the process is up), `/readyz` (503
 *   until the first config is applied, then 200 with counts and the provider's status): answered
 *   to anyone who reaches the port (in a pod: the kubelet's probes, Prometheus, the API server's
 *   pod proxy). They show counts and health, never names, addresses or rules.
 * - **debug** — `/config` (the applied MeshConfig: every Service, pod IP, ServiceAccount and
 *   access rule, and every problem) and every other path: answered only on connections from a
 *   loopback address (the agent's own host or pod: `kubectl port-forward` arrives there) or
 *   carrying the mesh's tap token (so `plexus dashboard` reads /config through the API server's
 *   pod proxy), 403 from anywhere else. Safe by default: a new endpoint is loopback-only unless it is added to
 *   PUBLIC_PATHS; list it in DEBUG_PATHS so the 404 answer names it.
 *   `/tap` (live requests, a stream) is debug too, with its own guard (tap-endpoint.ts): loopback
 *   callers only, or, on an agent that has the mesh's tap token, callers that send it (so the
 *   API server's pod proxy can carry `plexus tap` in a cluster).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { isLoopbackAddress } from './loopback.js';
import type { TapEndpoint } from './tap-endpoint.js';
import { listenOn } from './listen.js';

/** What the admin endpoints show; read at each request. */
export interface AdminSource {
  readonly registry: Registry;
  /** Null until the first config is applied. */
  readiness(): object | null;
  /** The `/readyz` body while not ready. */
  notReady(): object;
  /** Null until the first config is applied. */
  config(): object | null;
  /** `/tap`: live requests (a stream). */
  readonly tap: TapEndpoint;
}

const PUBLIC_PATHS: readonly string[] = ['/metrics', '/healthz', '/readyz'];
/** Endpoints that show what the mesh holds (every path not in PUBLIC_PATHS is loopback-only). */
export const DEBUG_PATHS: readonly string[] = ['/config'];

export { isLoopbackAddress };

export class AdminServer {
  readonly #source: AdminSource;
  readonly #server: Server;

  constructor(source: AdminSource) {
    this.#source = source;
    this.#server = createServer((request, response) => {
      this.#route(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { error: String(error) });
        else response.destroy();
      });
    });
    this.#server.keepAliveTimeout = 5_000;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo | null)?.port ?? 0;
  }

  listen(address: string, port: number): Promise<void> {
    return listenOn(this.#server, address, port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, { error: `method ${request.method} not allowed` });
      return;
    }
    const target = request.url ?? '/';
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    if (!PUBLIC_PATHS.includes(path) && path !== '/tap' && !isLoopbackAddress(request.socket.remoteAddress)
      && !(DEBUG_PATHS.includes(path) && await this.#source.tap.tokenRefusal(request) === null)) {
      sendJson(response, 403, {
        error: `${path} answers only on loopback: it shows every Service, pod IP, ServiceAccount and access rule`,
        hint: `kubectl -n <mesh namespace> port-forward pod/<agent pod> ${this.port}, then curl http://127.0.0.1:${this.port}${path}`,
      });
      return;
    }
    switch (path) {
      case '/metrics': {
        const body = await this.#source.registry.metrics();
        send(response, 200, this.#source.registry.contentType, body);
        return;
      }
      case '/healthz':
        sendJson(response, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const ready = this.#source.readiness();
        sendJson(response, ready ? 200 : 503, ready ?? this.#source.notReady());
        return;
      }
      case '/config': {
        const config = this.#source.config();
        sendJson(response, config ? 200 : 503, config ?? this.#source.notReady());
        return;
      }
      case '/tap':
        await this.#source.tap.serve(request, response, new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1)), (status, body) => sendJson(response, status, body));
        return;
      default:
        sendJson(response, 404, { error: `no admin endpoint ${path}`, endpoints: [...PUBLIC_PATHS, ...DEBUG_PATHS, '/tap'] });
    }
  }
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
