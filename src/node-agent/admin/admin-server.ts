/**
 * The agent's admin port (node:http): `/metrics` (Prometheus text), `/healthz` (the process is
 * up), `/readyz` (503 until the first config is applied, then 200 with the provider's status),
 * `/config` (the applied MeshConfig, its generation and every problem), `/tap` (live requests, a
 * stream; see tap-endpoint.ts for who may tap). Read-only: GET and HEAD.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { TapEndpoint } from './tap-endpoint.js';

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
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: address, port }, () => {
        this.#server.removeListener('error', reject);
        resolve();
      });
    });
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
        sendJson(response, 404, { error: `no admin endpoint ${path}`, endpoints: ['/metrics', '/healthz', '/readyz', '/config', '/tap'] });
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
