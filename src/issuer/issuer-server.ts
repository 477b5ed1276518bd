/**
 * The issuer's endpoint: HTTPS (TLS 1.3) with a certificate for the issuer identity
 * (`spiffe://<td>/plexus/issuer`) signed by the mesh CA, so a requesting agent can check it talks
 * to the issuer before it sends its token. Requesters have no certificate yet, so there is no
 * client certificate: the ServiceAccount token authenticates them. See issuance-protocol.ts for
 * the format. Draining: `startDraining` answers every request with `Connection: close` while the
 * endpoint keeps accepting; `close` stops accepting and lets requests in flight finish.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ISSUANCE_PATH, MalformedRequestError, MAX_BODY_BYTES, parseRequest } from '../secure/cluster/issuance-protocol.js';
import { UnauthenticatedError, UnavailableError, type IssuerService } from './issuer-service.js';

export interface IssuerServerOptions {
  readonly host: string;
  readonly port: number;
  readonly service: IssuerService;
  readonly credentials: { readonly certPem: string; readonly keyPem: string };
  readonly logger: Logger;
  /** Counts requests that never reach the service (malformed). */
  readonly onInvalid: () => void;
}

export class IssuerServer {
  readonly #options: IssuerServerOptions;
  readonly #server: Server;
  #draining = false;

  constructor(options: IssuerServerOptions) {
    this.#options = options;
    this.#server = createServer({ cert: options.credentials.certPem, key: options.credentials.keyPem, minVersion: 'TLSv1.3' },
      (req, res) => void this.#handle(req, res));
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.#server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** A renewed server certificate applies to new connections. */
  updateCredentials(credentials: { readonly certPem: string; readonly keyPem: string }): void {
    this.#server.setSecureContext({ cert: credentials.certPem, key: credentials.keyPem, minVersion: 'TLSv1.3' });
  }

  /** Keeps accepting, but every answer closes its connection (the Service sends new ones elsewhere). */
  startDraining(): void {
    this.#draining = true;
  }

  /** Stops accepting; requests in flight finish within `drainTimeoutMs`, then every connection is cut. */
  async close(drainTimeoutMs = 0): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainTimeoutMs);
    });
    await Promise.race([closed, deadline]);
    clearTimeout(timer);
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (code: number, body: object): void => {
      if (this.#draining) res.setHeader('Connection', 'close');
      res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url !== ISSUANCE_PATH) return answer(404, { error: `only POST ${ISSUANCE_PATH} is served` });
    if (req.method !== 'POST') return answer(405, { error: 'use POST' });
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    try {
      const body = await readBody(req);
      const requests = parseRequest(body);
      answer(200, await this.#options.service.issue(token, requests));
    } catch (err) {
      if (err instanceof MalformedRequestError) {
        this.#options.onInvalid();
        answer(400, { error: err.message });
      } else if (err instanceof UnauthenticatedError) {
        answer(401, { error: err.message });
      } else if (err instanceof UnavailableError) {
        answer(503, { error: err.message });
      } else {
        this.#options.logger.error({ err: (err as Error).message }, 'certificate request failed');
        answer(500, { error: 'the issuer failed; retry later' });
      }
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new MalformedRequestError(`the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
