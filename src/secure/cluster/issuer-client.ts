/**
 * An agent's certificates in a cluster: a `CertificateSource` that asks the issuer (the Service
 * `plexus-issuer`). It makes the key pair itself (the private key never leaves this process),
 * checks that the endpoint presents the issuer's certificate (`spiffe://<td>/plexus/issuer`) from
 * the trust bundle before sending its token, and checks that what comes back is a certificate for
 * the identity asked, on that key, from a trusted root. Each attempt is a new connection (the
 * Service may send it to another replica); a request that fails in transport or finds the issuer
 * unavailable (an issuer replica stopping, or killed mid-request) is retried twice at once-ish.
 */
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { IssuanceRefusedError } from '../issuer.js';
import { NO_METRICS, type SecureMetrics } from '../metrics.js';
import { uriSans } from '../spiffe.js';
import { formatAuthority } from '../tunnel/protocol.js';
import { verifyAgent, verifyIssuer, verifyPeer, type IssuedCert } from '../workload-cert.js';
import { generateKeyPair, type KeyPair } from '../x509.js';
import { encodeRequest, ISSUANCE_PATH, MAX_REQUESTS, parseAnswer, type IssuanceAnswer } from './issuance-protocol.js';

/** Attempts per batch, and the pause before each retry. */
const RETRY_DELAYS_MS = [250, 1_000];

/** An answer that a retry may fix: the issuer cannot sign right now (no CA, stopping, failing). */
class RetryableError extends Error {
  override readonly name = 'RetryableError';
}

export interface IssuerClientOptions {
  /** The issuer endpoint: the Service `plexus-issuer` (its DNS name) and port. */
  readonly issuer: { readonly host: string; readonly port: number };
  readonly token: () => Promise<string>;
  readonly trustBundle: () => readonly string[];
  readonly trustDomain: string;
  readonly metrics?: SecureMetrics;
  readonly clock?: () => number;
  /** Connect-to-answer timeout; default 10 s. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly identity: string;
  readonly keys: KeyPair;
  readonly resolve: (cert: IssuedCert) => void;
  readonly reject: (error: Error) => void;
}

export class IssuerClient {
  readonly #options: IssuerClientOptions;
  readonly #metrics: SecureMetrics;
  /** Requests made in the same turn (a new node's ServiceAccounts at once) go in one POST: one TokenReview. */
  #pending: Pending[] = [];

  constructor(options: IssuerClientOptions) {
    this.#options = options;
    this.#metrics = options.metrics ?? NO_METRICS;
  }

  readonly issue = (identity: string): Promise<IssuedCert> => new Promise((resolve, reject) => {
    this.#pending.push({ identity, keys: generateKeyPair(), resolve, reject });
    if (this.#pending.length === 1) setImmediate(() => void this.#flush());
  });

  async #flush(): Promise<void> {
    const batch = this.#pending.splice(0, MAX_REQUESTS);
    if (this.#pending.length > 0) setImmediate(() => void this.#flush());
    let answer: IssuanceAnswer;
    try {
      const body = encodeRequest(batch.map((p) => ({ identity: p.identity, publicKey: p.keys.publicKey })));
      answer = parseAnswer(await this.#postWithRetries(body));
    } catch (err) {
      for (const p of batch) {
        this.#metrics.certificateIssuance(p.identity, 'failed');
        p.reject(err as Error);
      }
      return;
    }
    for (const p of batch) {
      try {
        p.resolve(this.#accept(p, answer));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  /** The certificate for `p` in `answer`, checked; throws (and counts) a refusal or an unusable one. */
  #accept(p: Pending, answer: IssuanceAnswer): IssuedCert {
    const { identity, keys } = p;
    const refusal = answer.refused.find((r) => r.identity === identity);
    const issued = answer.certificates.find((c) => c.identity === identity);
    if (refusal !== undefined || issued === undefined) {
      this.#metrics.certificateIssuance(identity, 'refused');
      throw new IssuanceRefusedError(`certificate for ${identity} refused by the issuer: ${refusal?.reason ?? 'no certificate in the answer'}`);
    }
    const cert = new X509Certificate(issued.certPem);
    const now = (this.#options.clock ?? Date.now)();
    const bundle = this.#options.trustBundle();
    const node = /^node\/(.+)$/.exec(identity)?.[1];
    const verified = node === undefined ? verifyPeer(cert, bundle, now, this.#options.trustDomain) : verifyAgent(cert, bundle, now, node, this.#options.trustDomain);
    if (!verified.ok || verified.identity !== identity || !cert.publicKey.equals(keys.publicKey)) {
      this.#metrics.certificateIssuance(identity, 'failed');
      throw new Error(`the issuer returned an unusable certificate for ${identity}: ${verified.ok ? 'another identity or key' : verified.error}`);
    }
    this.#metrics.certificateIssuance(identity, 'issued');
    return {
      identity,
      spiffeId: uriSans(cert.subjectAltName)[0]!,
      certPem: issued.certPem,
      keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      notBefore: Date.parse(cert.validFrom),
      notAfter: Date.parse(cert.validTo),
      serialNumber: cert.serialNumber,
    };
  }

  /** The answer's body; transport failures and 5xx answers are retried (RETRY_DELAYS_MS). */
  async #postWithRetries(body: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#post(body, await this.#options.token());
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (!(err instanceof RetryableError) || delay === undefined) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #post(body: string, token: string): Promise<string> {
    const bundle = [...this.#options.trustBundle()];
    const clock = this.#options.clock ?? Date.now;
    const { host, port } = this.#options.issuer;
    const where = `issuer ${formatAuthority(host, port)}`;
    return new Promise((resolve, reject) => {
      const req = request({
        host, port, method: 'POST', path: ISSUANCE_PATH, agent: false,
        ca: bundle, minVersion: 'TLSv1.3', timeout: this.#options.timeoutMs ?? 10_000,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body) },
        // The chain was verified against `ca`; the token goes only to the issuer's identity.
        checkServerIdentity: (_host: string, presented: PeerCertificate) => {
          const verified = verifyIssuer(new X509Certificate(presented.raw), bundle, clock(), this.#options.trustDomain);
          return verified.ok ? undefined : new Error(`${where}: ${verified.error}`);
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 200) resolve(text);
          else reject(new (status >= 500 ? RetryableError : Error)(`${where} answered ${status || '?'}: ${errorOf(text)}`));
        });
        res.on('error', (err) => reject(new RetryableError(`${where}: ${err.message}`)));
      });
      req.on('timeout', () => req.destroy(new RetryableError(`${where}: no answer in time`)));
      // Transport failures (refused, reset, TLS) may be one replica going away: retried. A server
      // identity that does not verify is not (checkServerIdentity's error carries no code).
      req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof RetryableError || err.code === undefined ? err : new RetryableError(`${where}: ${err.message}`)));
      req.end(body);
    });
  }
}

function errorOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
