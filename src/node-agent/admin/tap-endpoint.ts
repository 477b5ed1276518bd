/**
 * `GET /tap`: a live stream of the agent's requests, one JSON line each (see telemetry/tap.ts
 * for the bounds). Query: `service=ns/name` or `namespace=ns` (else every Service), `method`,
 * `from=ns/sa|unknown`, `rate` (events a second, 1–1000, default 100). Paths are filtered by
 * the reader (`plexus tap --path`): the agent never runs a caller's regular expression.
 *
 * Who may tap (docs/cli.md#who-may-tap), in every mode, not only under `--acl`: with a tap
 * token (`--tap-token-file`; in a cluster Secret `plexus-tap` of the mesh namespace, which
 * `plexus tap` reads with the user's own credentials and sends through the API server's pod
 * proxy), a caller that sends it in `X-Plexus-Tap-Token`; without one, a process on this host
 * (a loopback peer), as in local mode.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackAddress } from './loopback.js';
import { TAP_DEFAULT_RATE, TAP_MAX_RATE, type TapFilter, type TapHub } from '../telemetry/tap.js';

export const TAP_TOKEN_HEADER = 'x-plexus-tap-token';
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const METHOD = /^[A-Z]+$/;

export type TapQuery = { readonly ok: true; readonly filter: TapFilter; readonly rate: number } | { readonly ok: false; readonly error: string };

/** Parses and checks the query of a tap request. */
export function parseTapQuery(params: URLSearchParams): TapQuery {
  const service = params.get('service');
  let namespace = params.get('namespace');
  let name: string | null = null;
  if (service !== null) {
    const [ns, svc, extra] = service.split('/');
    if (ns === undefined || svc === undefined || extra !== undefined || !NAME.test(ns) || !NAME.test(svc)) {
      return { ok: false, error: `service "${service}" is not namespace/name` };
    }
    if (namespace !== null && namespace !== ns) return { ok: false, error: `service ${service} is not in namespace ${namespace}` };
    namespace = ns;
    name = svc;
  }
  if (namespace !== null && !NAME.test(namespace)) return { ok: false, error: `namespace "${namespace}" is not a namespace name` };
  const method = params.get('method')?.toUpperCase() ?? null;
  if (method !== null && !METHOD.test(method)) return { ok: false, error: `method "${method}" is not an HTTP method` };
  const from = params.get('from');
  if (from !== null && from !== 'unknown' && !/^[a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9.]*$/.test(from)) {
    return { ok: false, error: `from "${from}" is not namespace/serviceAccount or unknown` };
  }
  const rateText = params.get('rate');
  const rate = rateText === null ? TAP_DEFAULT_RATE : Number(rateText);
  if (!Number.isInteger(rate) || rate < 1 || rate > TAP_MAX_RATE) return { ok: false, error: `rate "${rateText}" is not a whole number from 1 to ${TAP_MAX_RATE}` };
  return { ok: true, filter: { namespace, service: name, method, from }, rate };
}

export class TapEndpoint {
  constructor(private readonly hub: TapHub, private readonly tokenFile: string | null) {}

  /** Null when the caller may tap, else why not. */
  async refusal(request: IncomingMessage): Promise<string | null> {
    if (this.tokenFile === null) {
      return isLoopbackAddress(request.socket.remoteAddress) ? null : 'tap is open to this host only (loopback): this agent has no tap token (--tap-token-file)';
    }
    return this.tokenRefusal(request);
  }

  /**
   * Null when the request carries the mesh's tap token, else why not. The token is the mesh's
   * read-only observer credential: it also opens the other debug endpoints (/config, which the
   * dashboard's routes panel reads through the API server's pod proxy).
   */
  async tokenRefusal(request: IncomingMessage): Promise<string | null> {
    if (this.tokenFile === null) return 'this agent has no tap token (--tap-token-file)';
    const sent = request.headers[TAP_TOKEN_HEADER];
    if (typeof sent !== 'string' || sent === '') return `tap needs the mesh's tap token in ${TAP_TOKEN_HEADER}`;
    let token: string;
    try {
      token = (await readFile(this.tokenFile, 'utf8')).trim();
    } catch (error) {
      return `the agent cannot read its tap token ${this.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
    const expected = Buffer.from(token);
    const given = Buffer.from(sent.trim());
    return token !== '' && expected.length === given.length && timingSafeEqual(expected, given) ? null : 'wrong tap token';
  }

  async serve(request: IncomingMessage, response: ServerResponse, params: URLSearchParams, sendJson: (status: number, body: object) => void): Promise<void> {
    const refusal = await this.refusal(request);
    if (refusal !== null) {
      sendJson(403, { error: refusal });
      return;
    }
    const query = parseTapQuery(params);
    if (!query.ok) {
      sendJson(400, { error: query.error });
      return;
    }
    if (this.hub.full) {
      sendJson(503, { error: 'too many taps on this agent; try again later' });
      return;
    }
    if (request.method === 'HEAD') {
      sendJson(200, { tap: 'ok' });
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    response.flushHeaders();
    const subscriber = this.hub.subscribe(query.filter, query.rate, {
      write: (text) => response.write(text),
      onDrain: (resume) => response.on('drain', resume),
    });
    response.on('close', () => this.hub.unsubscribe(subscriber));
  }
}
