/**
 * The caller side of the tunnel: `openStream` gives a Duplex to a pod behind another agent.
 * Sessions (one mutual-TLS HTTP/2 connection each) are pooled by (source identity, destination
 * agent) and never shared between identities: each presents its own identity's certificate. The
 * destination agent must present `spiffe://<td>/plexus/node/<its node>` from the trust bundle.
 *
 * When an identity's certificate is renewed, its sessions stop taking new streams (HTTP/2 GOAWAY
 * via `close()`), finish the streams they carry, and a new session presents the new certificate.
 */
import { X509Certificate } from 'node:crypto';
import { connect, constants as h2, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import type { UpstreamSocket } from '../../node-agent/runtime/dialer.js';
import type { IssuedCert } from '../workload-cert.js';
import { verifyAgent } from '../workload-cert.js';
import { formatAuthority, REASON_HEADER, SERVICE_HEADER, SESSION_WINDOW_BYTES, STREAM_WINDOW_BYTES, TUNNEL_ALPN,
  type TunnelTarget } from './protocol.js';

/** Another node's agent, as reached for tunnelling. */
export interface TunnelPeer {
  readonly host: string;
  readonly port: number;
  /** Its node: the certificate it presents must name it. */
  readonly nodeName: string;
}

export interface TunnelClientOptions {
  /** The current certificate of an identity (CertificateStore.get). */
  readonly certificate: (identity: string) => IssuedCert | undefined;
  /** The current trust bundle (PEM roots). */
  readonly trustBundle: () => readonly string[];
  readonly trustDomain: string;
  /** Epoch ms for certificate validity; default `Date.now`. */
  readonly clock?: () => number;
  /** Handshake and CONNECT answer timeout; default 10 s. */
  readonly timeoutMs?: number;
  /** Close a session with no stream for this long; default 5 min. */
  readonly idleMs?: number;
}

/** A stream the destination refused (403 unauthorized, 502 pod unreachable, ...), or a tunnel failure (status 0). */
export class TunnelError extends Error {
  override readonly name = 'TunnelError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

interface PooledSession {
  readonly session: ClientHttp2Session;
  /** Serial of the certificate it presented. */
  readonly serialNumber: string;
  readonly ready: Promise<void>;
  /** Streams requested on it and not yet closed. */
  active: number;
  /** Replaced after a renewal: it closes once its last stream has. */
  retired: boolean;
  /** Closes the session once it has carried no stream for `idleMs` (set while `active` is 0). */
  idle: NodeJS.Timeout | null;
}

export class TunnelClient {
  readonly #options: TunnelClientOptions;
  readonly #pool = new Map<string, PooledSession>();
  readonly #all = new Set<ClientHttp2Session>();

  constructor(options: TunnelClientOptions) {
    this.#options = options;
  }

  /** Sessions currently open (including ones draining after a renewal). */
  get sessionCount(): number {
    return this.#all.size;
  }

  /**
   * A byte stream from `source` (an `ns/sa` this agent holds a certificate for) to `target`, a
   * pod endpoint on `peer`'s node. Rejects with TunnelError when refused or unreachable.
   */
  async openStream(source: string, peer: TunnelPeer, target: TunnelTarget): Promise<Duplex> {
    let pooled: PooledSession;
    // A session may start closing (renewal, GOAWAY) while this call waits for it: take the next one.
    for (let attempt = 0; ; attempt++) {
      pooled = this.#session(source, peer, this.#certificateOf(source));
      await pooled.ready;
      if (!pooled.session.closed && !pooled.session.destroyed) break;
      if (attempt === 2) throw new TunnelError(`tunnel to ${peer.nodeName} (${peer.host}:${peer.port}) keeps closing`, 0);
    }
    return awaitResponse(this.#request(pooled, target), this.#options.timeoutMs ?? 10_000);
  }

  /**
   * The same stream, returned at once for the data plane's dialer (which is synchronous; its
   * session may still be connecting): like a socket, it emits `connect` once the destination
   * answered 200, and is destroyed with a TunnelError when refused. It never throws: a stream
   * that cannot be opened at all (no certificate held for `source`, a session that takes no new
   * stream) comes back failing with the error, as a socket whose connect failed.
   */
  stream(source: string, peer: TunnelPeer, target: TunnelTarget): UpstreamSocket {
    let stream: ClientHttp2Stream;
    try {
      stream = this.#request(this.#session(source, peer, this.#certificateOf(source)), target);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return new FailedStream(err instanceof TunnelError ? err : new TunnelError(`tunnel to ${peer.nodeName} (${peer.host}:${peer.port}): ${reason}`, 0));
    }
    stream.once('response', (headers) => {
      const status = Number(headers[h2.HTTP2_HEADER_STATUS]);
      if (status === 200) stream.emit('connect');
      else stream.destroy(new TunnelError(refusal(status, headers[REASON_HEADER]), status));
    });
    return stream;
  }

  #certificateOf(source: string): IssuedCert {
    const cert = this.#options.certificate(source);
    if (cert === undefined) throw new TunnelError(`no certificate held for ${source}`, 0);
    return cert;
  }

  #request(pooled: PooledSession, target: TunnelTarget): ClientHttp2Stream {
    const headers: Record<string, string> = {
      [h2.HTTP2_HEADER_METHOD]: 'CONNECT',
      [h2.HTTP2_HEADER_AUTHORITY]: formatAuthority(target.host, target.port),
    };
    if (target.service !== null) headers[SERVICE_HEADER] = target.service;
    const stream = pooled.session.request(headers, { endStream: false });
    pooled.active++;
    if (pooled.idle !== null) {
      clearTimeout(pooled.idle);
      pooled.idle = null;
    }
    stream.once('close', () => {
      if (--pooled.active > 0) return;
      if (pooled.retired) pooled.session.close();
      // Not a session timeout: that would be refreshed by every read and write of every stream.
      else if (!pooled.session.closed) pooled.idle = setTimeout(closeIdle, this.#options.idleMs ?? 300_000, pooled).unref();
    });
    return stream;
  }

  /** Ends every session (streams in flight are cut). */
  close(): void {
    for (const session of this.#all) session.destroy();
    this.#pool.clear();
  }

  #session(source: string, peer: TunnelPeer, cert: IssuedCert): PooledSession {
    const key = `${source}\n${formatAuthority(peer.host, peer.port)}`;
    const current = this.#pool.get(key);
    if (current !== undefined && !current.session.closed && !current.session.destroyed) {
      if (current.serialNumber === cert.serialNumber) return current;
      // Renewed: the old session takes no new streams and closes after its last one. Closing
      // it earlier (GOAWAY) would refuse requests queued on it but not yet sent.
      current.retired = true;
      current.ready.then(() => {
        if (current.active === 0) current.session.close();
      }, () => {});
    }
    const pooled = this.#connect(peer, cert);
    this.#pool.set(key, pooled);
    const forget = (): void => {
      if (this.#pool.get(key) === pooled) this.#pool.delete(key);
    };
    pooled.session.once('close', forget);
    pooled.session.once('goaway', forget);
    pooled.ready.catch(forget);
    return pooled;
  }

  #connect(peer: TunnelPeer, cert: IssuedCert): PooledSession {
    const { trustDomain } = this.#options;
    const clock = this.#options.clock ?? Date.now;
    const bundle = this.#options.trustBundle();
    const session = connect(`https://${formatAuthority(peer.host, peer.port)}`, {
      cert: cert.certPem,
      key: cert.keyPem,
      ca: [...bundle],
      ALPNProtocols: [TUNNEL_ALPN],
      minVersion: 'TLSv1.3',
      settings: { initialWindowSize: STREAM_WINDOW_BYTES },
      // The chain was verified against `ca`; this checks the agent's SPIFFE ID instead of a host name.
      checkServerIdentity: (_host: string, presented: PeerCertificate) => {
        const verified = verifyAgent(new X509Certificate(presented.raw), bundle, clock(), peer.nodeName, trustDomain);
        return verified.ok ? undefined : new Error(`tunnel peer ${peer.host}:${peer.port}: ${verified.error}`);
      },
    });
    this.#all.add(session);
    session.once('close', () => this.#all.delete(session));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => session.destroy(new Error('TLS handshake timed out')), this.#options.timeoutMs ?? 10_000);
      session.once('connect', () => {
        clearTimeout(timer);
        if (!session.destroyed) session.setLocalWindowSize(SESSION_WINDOW_BYTES);
        resolve();
      });
      session.once('close', () => {
        clearTimeout(timer);
        reject(new TunnelError(`tunnel to ${peer.nodeName} (${peer.host}:${peer.port}) closed before it was ready`, 0));
      });
      session.once('error', (err) => {
        clearTimeout(timer);
        reject(new TunnelError(`tunnel to ${peer.nodeName} (${peer.host}:${peer.port}): ${err.message}`, 0));
      });
    });
    // Later session errors are reported on its streams; without a listener they would crash.
    session.on('error', () => {});
    const pooled: PooledSession = { session, serialNumber: cert.serialNumber, ready, active: 0, retired: false, idle: null };
    session.once('close', () => {
      if (pooled.idle !== null) clearTimeout(pooled.idle);
    });
    return pooled;
  }
}

function closeIdle(pooled: PooledSession): void {
  pooled.idle = null;
  if (pooled.active === 0) pooled.session.close();
}

function awaitResponse(stream: ClientHttp2Stream, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => stream.close(h2.NGHTTP2_CANCEL), timeoutMs);
    const fail = (error: TunnelError): void => {
      clearTimeout(timer);
      reject(error);
    };
    stream.once('response', (headers) => {
      clearTimeout(timer);
      const status = Number(headers[h2.HTTP2_HEADER_STATUS]);
      if (status === 200) {
        stream.removeListener('close', onClose);
        resolve(stream);
        return;
      }
      stream.resume(); // drain and let it end
      fail(new TunnelError(refusal(status, headers[REASON_HEADER]), status));
    });
    const onClose = (): void => fail(new TunnelError(`tunnel stream closed before an answer (code ${stream.rstCode ?? 'none'})`, 0));
    stream.once('close', onClose);
    stream.once('error', () => {}); // its close follows and reports it
  });
}

function refusal(status: number, reason: string | string[] | undefined): string {
  return `tunnel stream refused (${status}): ${typeof reason === 'string' ? reason : 'no reason given'}`;
}

/** A stream that could not be opened: it fails with `error` and closes, as a socket whose connect failed. */
class FailedStream extends Duplex implements UpstreamSocket {
  constructor(error: Error) {
    super({ read() {}, write: (_chunk, _encoding, callback) => callback(error) });
    process.nextTick(() => this.destroy(error));
  }

  setTimeout(): this {
    return this;
  }
}
