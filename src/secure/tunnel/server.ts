/**
 * The destination side of the tunnel: a listener on `--tunnel-port` that accepts mutual-TLS
 * HTTP/2 connections from other agents, verifies the caller's certificate (chain to the trust
 * bundle, then its SPIFFE ID), asks the authorizer about each CONNECT stream with that identity,
 * and pipes allowed streams to a TCP connection to the local pod.
 *
 * Plaintext callers are refused by sniffing the first byte (a TLS handshake starts with 0x16);
 * a permissive listener lets them through as HTTP/2 cleartext with no identity, for migration.
 */
import { constants as h2, createSecureServer, createServer as createH2cServer, type Http2Server, type Http2Session,
  type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { NO_METRICS, type SecureMetrics } from '../metrics.js';
import { verifyPeer } from '../workload-cert.js';
import { parseAuthority, REASON_HEADER, SERVICE_HEADER, SESSION_WINDOW_BYTES, STREAM_WINDOW_BYTES, TUNNEL_ALPN,
  type TunnelTarget } from './protocol.js';

/** What the listener presents and whom it trusts. */
export interface TunnelCredentials {
  /** The agent's own certificate (`spiffe://<td>/plexus/node/<node>`) and key, PEM. */
  readonly certPem: string;
  readonly keyPem: string;
  /** PEM roots (the CA's trust bundle: both roots during a rotation). */
  readonly trustBundle: readonly string[];
}

export interface TunnelDecision {
  readonly allowed: boolean;
  /** Logged, and sent back in `plexus-reason` when refused. */
  readonly reason: string;
  /** The destination's identity label for metrics (`ns/sa` of the target pod, or the Service). */
  readonly destination: string;
  /** The stream only opens the way: its deliver handler authorizes (and counts) each request on it. */
  readonly perRequest?: boolean;
}

/**
 * Decides one stream. `identity` is the caller's verified `ns/sa`, or null for a plaintext caller
 * let in by a permissive listener. It must also refuse targets that are not pods of this node:
 * otherwise the tunnel would relay to any address.
 */
export type TunnelAuthorizer = (identity: string | null, target: TunnelTarget) => TunnelDecision;

export interface TunnelServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly credentials: TunnelCredentials;
  readonly trustDomain: string;
  readonly authorize: TunnelAuthorizer;
  /** Accept plaintext callers (identity null). Migration only. */
  readonly permissive?: boolean;
  readonly logger: Logger;
  readonly metrics?: SecureMetrics;
  /** Epoch ms for certificate validity; default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Claims an allowed stream instead of piping it to the pod: return a handler to take it (it
   * gets the HTTP/2 stream itself, a Duplex of the caller's bytes, after the `200`), or null for
   * the default L4 relay. The agent uses this to serve HTTP ports with its HTTP gate
   * (http-gate.ts), so that every request on the stream is authorized (L7) with `identity`.
   */
  readonly deliver?: (identity: string | null, target: TunnelTarget) => ((stream: Duplex) => void) | null;
  /** Give up on a caller that sends nothing, and on a pod that does not accept; default 10 s. */
  readonly timeoutMs?: number;
}

export class TunnelServer {
  readonly #options: TunnelServerOptions;
  readonly #metrics: SecureMetrics;
  readonly #clock: () => number;
  readonly #tls: Http2SecureServer;
  readonly #h2c: Http2Server | null;
  readonly #listener: Server;
  readonly #identities = new WeakMap<Http2Session, string>();
  /** Sessions of plaintext callers (permissive listener): they carry no identity. */
  readonly #plaintext = new WeakSet<Http2Session>();
  readonly #sessions = new Set<Http2Session>();
  readonly #sockets = new Set<Socket>();
  #trustBundle: readonly string[];

  constructor(options: TunnelServerOptions) {
    this.#options = options;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#clock = options.clock ?? Date.now;
    this.#trustBundle = options.credentials.trustBundle;
    const settings = { initialWindowSize: STREAM_WINDOW_BYTES };
    this.#tls = createSecureServer({
      ...tlsOptions(options.credentials),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: [TUNNEL_ALPN],
      minVersion: 'TLSv1.3',
      settings,
    });
    this.#tls.on('session', (session) => this.#onSecureSession(session));
    this.#tls.on('stream', (stream, headers) => this.#onStream(stream, headers));
    this.#tls.on('tlsClientError', (err) => {
      this.#metrics.tunnelConnection('rejected');
      options.logger.debug({ err: err.message }, 'tunnel: TLS handshake refused');
    });
    this.#h2c = options.permissive ? createH2cServer({ settings }) : null;
    this.#h2c?.on('session', (session) => {
      this.#plaintext.add(session);
      this.#track(session);
    });
    this.#h2c?.on('stream', (stream, headers) => this.#onStream(stream, headers));
    // No Nagle: small HTTP/2 frames (a request, a response head) must not wait for an ACK.
    this.#listener = createServer({ noDelay: true }, (socket) => this.#onConnection(socket));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#listener.once('error', reject);
      this.#listener.listen(this.#options.port, this.#options.host, () => {
        this.#listener.off('error', reject);
        resolve(this.#listener.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | null {
    return this.#listener.address() as AddressInfo | null;
  }

  /** New certificate or trust bundle (renewal, CA rotation): applies to new connections only. */
  updateCredentials(credentials: TunnelCredentials): void {
    this.#trustBundle = credentials.trustBundle;
    this.#tls.setSecureContext({ ...tlsOptions(credentials), minVersion: 'TLSv1.3' });
  }

  /**
   * Stops accepting and sends every session a GOAWAY: streams in flight may finish within
   * `drainTimeoutMs` (0: cut at once), then every session and socket is ended.
   */
  async close(drainTimeoutMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#listener.close(() => resolve()));
    if (drainTimeoutMs > 0 && this.#sessions.size > 0) {
      const ended = [...this.#sessions].map((session) => new Promise<void>((resolve) => {
        session.once('close', () => resolve());
        session.close();
      }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(ended), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
      clearTimeout(timer);
    }
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #onConnection(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.#options.timeoutMs ?? 10_000, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(first);
      const isTls = first[0] === 0x16;
      if (isTls) {
        this.#tls.emit('connection', socket);
      } else if (this.#h2c !== null) {
        this.#metrics.tunnelConnection('plaintext-permitted');
        this.#h2c.emit('connection', socket);
      } else {
        this.#metrics.tunnelConnection('plaintext-refused');
        this.#options.logger.warn({ remote: socket.remoteAddress }, 'tunnel: plaintext caller refused (TLS required)');
        socket.destroy();
      }
      // No resume(): TLS and HTTP/2 take over the socket and read the unshifted bytes themselves.
    });
  }

  #onSecureSession(session: Http2Session): void {
    this.#track(session);
    const socket = session.socket as TLSSocket;
    const refuse = (reason: string): void => {
      this.#metrics.tunnelConnection('rejected');
      this.#options.logger.warn({ remote: socket.remoteAddress, reason }, 'tunnel: caller refused');
      session.destroy();
    };
    const peer = socket.getPeerX509Certificate();
    if (peer === undefined) {
      refuse('no client certificate');
      return;
    }
    const verified = verifyPeer(peer, this.#trustBundle, this.#clock(), this.#options.trustDomain);
    if (!verified.ok) {
      refuse(verified.error);
      return;
    }
    this.#metrics.tunnelConnection('accepted');
    this.#identities.set(session, verified.identity);
    // A session lives no longer than the certificate that opened it (callers renew at half-life).
    const expiresIn = Date.parse(peer.validTo) - this.#clock();
    const expiry = setTimeout(() => session.close(), Math.max(0, Math.min(expiresIn, 2 ** 31 - 1)));
    expiry.unref();
    session.once('close', () => clearTimeout(expiry));
  }

  #track(session: Http2Session): void {
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    session.on('error', () => session.destroy());
    if (!session.destroyed) session.setLocalWindowSize(SESSION_WINDOW_BYTES);
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => stream.destroy());
    const session = stream.session;
    const identity = session === undefined ? undefined : this.#identities.get(session);
    const plaintext = session !== undefined && this.#plaintext.has(session);
    if (identity === undefined && !plaintext) {
      stream.close(h2.NGHTTP2_REFUSED_STREAM); // its session failed verification and is closing
      return;
    }
    if (headers[h2.HTTP2_HEADER_METHOD] !== 'CONNECT') {
      refuse(stream, 405, 'only CONNECT is served on the tunnel port');
      return;
    }
    const authority = headers[h2.HTTP2_HEADER_AUTHORITY];
    const endpoint = parseAuthority(typeof authority === 'string' ? authority : undefined);
    if (endpoint === null) {
      refuse(stream, 400, 'CONNECT authority must be ip:port');
      return;
    }
    const service = headers[SERVICE_HEADER];
    const target: TunnelTarget = { ...endpoint, service: typeof service === 'string' ? service : null };
    const caller = identity ?? null;
    const decision = this.#options.authorize(caller, target);
    if (decision.perRequest !== true) this.#metrics.authorization(caller ?? 'plaintext', decision.destination, decision.allowed);
    if (!decision.allowed) {
      this.#options.logger.info({ source: caller, target: authority, reason: decision.reason }, 'tunnel: stream refused');
      refuse(stream, 403, decision.reason);
      return;
    }
    const handler = this.#options.deliver?.(caller, target) ?? null;
    if (handler === null) {
      this.#pipeToPod(stream, target);
      return;
    }
    stream.respond({ [h2.HTTP2_HEADER_STATUS]: 200 });
    handler(stream);
  }

  #pipeToPod(stream: ServerHttp2Stream, target: TunnelTarget): void {
    const pod = tcpConnect({ host: target.host, port: target.port });
    pod.setNoDelay(true);
    pod.setTimeout(this.#options.timeoutMs ?? 10_000, () => pod.destroy(new Error('pod did not accept in time')));
    pod.once('connect', () => {
      pod.setTimeout(0);
      if (stream.destroyed) {
        pod.destroy();
        return;
      }
      stream.respond({ [h2.HTTP2_HEADER_STATUS]: 200 });
      stream.pipe(pod);
      pod.pipe(stream);
    });
    pod.on('error', (err) => {
      if (stream.headersSent) stream.close(h2.NGHTTP2_CONNECT_ERROR);
      else refuse(stream, 502, `pod ${target.host}:${target.port}: ${err.message}`);
    });
    stream.once('close', () => pod.destroy());
  }
}

function refuse(stream: ServerHttp2Stream, status: number, reason: string): void {
  if (stream.destroyed || stream.headersSent) return;
  // Header values must be a single line of visible ASCII.
  stream.respond({ [h2.HTTP2_HEADER_STATUS]: status, [REASON_HEADER]: reason.replace(/[^\x20-\x7e]/g, '?') }, { endStream: true });
}

function tlsOptions(credentials: TunnelCredentials): { cert: string; key: string; ca: string[] } {
  return { cert: credentials.certPem, key: credentials.keyPem, ca: [...credentials.trustBundle] };
}
