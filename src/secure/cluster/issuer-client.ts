/**
 * An agent's certificates in a cluster: a `CertificateSource` that asks the leader. It makes the
 * key pair itself (the private key never leaves this process), checks that the endpoint presents
 * the leader's agent certificate from the trust bundle before sending its token, and checks that
 * what comes back is a certificate for the identity asked, on that key, from a trusted root.
 */
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { IssuanceRefusedError } from '../issuer.js';
import { NO_METRICS, type SecureMetrics } from '../metrics.js';
import { uriSans } from '../spiffe.js';
import { formatAuthority } from '../tunnel/protocol.js';
import { verifyAgent, verifyPeer, type IssuedCert } from '../workload-cert.js';
import { generateKeyPair, type KeyPair } from '../x509.js';
import { encodeRequest, ISSUANCE_PATH, MAX_REQUESTS, parseAnswer, type IssuanceAnswer } from './issuance-protocol.js';
import type { LeaderAddress } from './kube-lookups.js';

export interface IssuerClientOptions {
  readonly locateLeader: () => Promise<LeaderAddress>;
  /** The issuer port (the same on every agent). */
  readonly port: number;
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
      const leader = await this.#options.locateLeader();
      const body = encodeRequest(batch.map((p) => ({ identity: p.identity, publicKey: p.keys.publicKey })));
      answer = parseAnswer(await this.#post(leader, body, await this.#options.token()));
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
      throw new IssuanceRefusedError(`certificate for ${identity} refused by the leader: ${refusal?.reason ?? 'no certificate in the answer'}`);
    }
    const cert = new X509Certificate(issued.certPem);
    const now = (this.#options.clock ?? Date.now)();
    const bundle = this.#options.trustBundle();
    const node = /^node\/(.+)$/.exec(identity)?.[1];
    const verified = node === undefined ? verifyPeer(cert, bundle, now, this.#options.trustDomain) : verifyAgent(cert, bundle, now, node, this.#options.trustDomain);
    if (!verified.ok || verified.identity !== identity || !cert.publicKey.equals(keys.publicKey)) {
      this.#metrics.certificateIssuance(identity, 'failed');
      throw new Error(`the leader returned an unusable certificate for ${identity}: ${verified.ok ? 'another identity or key' : verified.error}`);
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

  #post(leader: LeaderAddress, body: string, token: string): Promise<string> {
    const bundle = [...this.#options.trustBundle()];
    const clock = this.#options.clock ?? Date.now;
    const where = `issuer ${formatAuthority(leader.host, this.#options.port)}`;
    return new Promise((resolve, reject) => {
      const req = request({
        host: leader.host, port: this.#options.port, method: 'POST', path: ISSUANCE_PATH,
        ca: bundle, minVersion: 'TLSv1.3', timeout: this.#options.timeoutMs ?? 10_000,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body) },
        // The chain was verified against `ca`; the token goes only to the leader's agent identity.
        checkServerIdentity: (_host: string, presented: PeerCertificate) => {
          const verified = verifyAgent(new X509Certificate(presented.raw), bundle, clock(), leader.nodeName, this.#options.trustDomain);
          return verified.ok ? undefined : new Error(`${where}: ${verified.error}`);
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`${where} answered ${res.statusCode ?? '?'}: ${errorOf(text)}`));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${where}: no answer in time`)));
      req.on('error', reject);
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
