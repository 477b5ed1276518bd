/**
 * The dashboard's web server, on loopback: the page and its script and style (web/dashboard,
 * served from the package: nothing comes from the internet) and a small JSON API over the
 * MeshView and the agents' taps. GET only; a Host other than this server's own address is
 * refused, so another web site cannot read it through DNS rebinding.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { listenOn } from '../../node-agent/admin/listen.js';
import type { AgentAccess } from '../observe/agents.js';
import { TapStreams } from '../observe/tap-stream.js';
import { parseTarget, tapQuery } from '../observe/target.js';
import type { MeshView } from './mesh-view.js';

const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
export const ASSET_DIR = join(PACKAGE_ROOT, 'web', 'dashboard');
/** Live taps the page may hold open at once (each opens one stream per agent). */
const MAX_TAPS = 4;
/** Events per second each agent sends to a dashboard tap. */
const TAP_RATE = 20;

export class DashboardServer {
  readonly #view: MeshView;
  readonly #access: AgentAccess;
  readonly #server: Server;
  readonly #assets = new Map<string, Buffer>();
  readonly #taps = new Set<TapStreams>();

  constructor(view: MeshView, access: AgentAccess) {
    this.#view = view;
    this.#access = access;
    for (const { file } of Object.values(ASSETS)) this.#assets.set(file, readFileSync(join(ASSET_DIR, file)));
    this.#server = createServer((request, response) => {
      this.#route(request, response).catch((error: unknown) => {
        if (!response.headersSent) json(response, 500, { error: error instanceof Error ? error.message : String(error) });
        else response.destroy();
      });
    });
  }

  get port(): number {
    return (this.#server.address() as AddressInfo | null)?.port ?? 0;
  }

  listen(address: string, port: number): Promise<void> {
    return listenOn(this.#server, address, port);
  }

  async close(): Promise<void> {
    for (const tap of this.#taps) tap.stop();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const address = this.#server.address() as AddressInfo;
    const host = request.headers.host ?? '';
    if (host !== `${address.address}:${address.port}` && host !== `localhost:${address.port}` && host !== `[${address.address}]:${address.port}`) {
      json(response, 421, { error: `this dashboard answers to ${address.address}:${address.port} only` });
      return;
    }
    if (request.method !== 'GET') {
      json(response, 405, { error: 'GET only' });
      return;
    }
    const url = new URL(request.url ?? '/', `http://${host}`);
    const asset = ASSETS[url.pathname];
    if (asset !== undefined) {
      const body = this.#assets.get(asset.file)!;
      response.writeHead(200, { 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-store' });
      response.end(body);
      return;
    }
    switch (url.pathname) {
      case '/api/graph':
        json(response, 200, this.#view.graph());
        return;
      case '/api/service':
        json(response, 200, await this.#view.service(url.searchParams.get('name') ?? ''));
        return;
      case '/api/tap':
        this.#tap(url.searchParams.get('service') ?? '', response);
        return;
      default:
        json(response, 404, { error: `no page ${url.pathname}` });
    }
  }

  #tap(service: string, response: ServerResponse): void {
    let query: string;
    try {
      query = tapQuery(parseTarget(service, new Set()), { rate: TAP_RATE });
    } catch (error) {
      json(response, 400, { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (this.#taps.size >= MAX_TAPS) {
      json(response, 503, { error: `at most ${MAX_TAPS} live taps at once` });
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    response.flushHeaders();
    // A page that does not keep up loses events; it never holds the agents' streams back.
    const write = (line: object): void => {
      if (response.writableLength < 64 * 1024) response.write(`${JSON.stringify(line)}\n`);
    };
    const streams = new TapStreams(this.#access, this.#view.agents, query, {
      onEvent: (event, agent) => write({ ...event, agent }),
      onProblem: (message) => write({ type: 'problem', message }),
    });
    this.#taps.add(streams);
    response.on('close', () => {
      streams.stop();
      this.#taps.delete(streams);
    });
  }
}

function json(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
