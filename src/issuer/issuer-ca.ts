/**
 * The CA as the issuer holds it: the Secret `plexus-ca` read through the API access layer (again
 * every `reloadMs`, so a `plexus ca rotate` reaches it), and the issuer's own serving certificate
 * (`spiffe://<td>/plexus/issuer`) signed by it, renewed at half its life and on every CA change.
 * A Secret that cannot be read keeps the last good CA; a Secret that is gone drops it (the issuer
 * then refuses to sign and is not ready) — `plexus cleanup` deleting the CA means no more issuance.
 */
import type { Logger } from 'pino';
import { getOrNull, type ApiClient } from '../kube/api-client.js';
import type { MeshCa } from '../secure/ca.js';
import { RENEW_AT_FRACTION } from '../secure/defaults.js';
import { issueIssuerCert, type IssuedCert } from '../secure/workload-cert.js';
import { caFromSecret, CA_SECRET_NAME } from './ca-objects.js';

export interface IssuerCaOptions {
  readonly client: ApiClient;
  readonly namespace: string;
  readonly trustDomain: string;
  /** Lifetime of the serving certificate (the agents' certificates have the issuer's --cert-lifetime too). */
  readonly lifetimeMs: number;
  readonly logger: Logger;
  /** A new serving certificate (first load, renewal, CA change). */
  readonly onCredentials: (cert: IssuedCert) => void;
  /** How often the Secret is re-read; default 10 s. */
  readonly reloadMs?: number;
}

interface SecretObject {
  readonly type?: string;
  readonly data?: Record<string, string>;
}

export class IssuerCa {
  readonly #options: IssuerCaOptions;
  #ca: MeshCa | null = null;
  #serving: IssuedCert | null = null;
  /** Why there is no CA (logged once per reason). */
  #problem: string | null = 'the CA Secret has not been read yet';
  #timer: NodeJS.Timeout | null = null;
  #reloading: Promise<void> | null = null;

  constructor(options: IssuerCaOptions) {
    this.#options = options;
  }

  /** The signing CA; null while there is none (not ready). */
  get ca(): MeshCa | null {
    return this.#ca;
  }

  get serving(): IssuedCert | null {
    return this.#serving;
  }

  /** Why the issuer cannot sign; null when it can. */
  get problem(): string | null {
    return this.#ca === null ? this.#problem : null;
  }

  /** Reads the Secret now, then every `reloadMs` until `stop`. */
  async start(): Promise<void> {
    await this.reload();
    this.#timer = setInterval(() => void this.reload(), this.#options.reloadMs ?? 10_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One read (a read already running is joined). */
  reload(): Promise<void> {
    this.#reloading ??= this.#reload().finally(() => {
      this.#reloading = null;
    });
    return this.#reloading;
  }

  async #reload(): Promise<void> {
    const { client, namespace, trustDomain, logger } = this.#options;
    const source = `Secret ${namespace}/${CA_SECRET_NAME}`;
    let next: MeshCa;
    try {
      const secret = await getOrNull(client, `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${CA_SECRET_NAME}`) as SecretObject | null;
      if (secret === null) {
        this.#drop(`no ${source}: create the mesh CA with plexus prepare`);
        return;
      }
      next = caFromSecret({ type: secret.type ?? 'Opaque', data: secret.data ?? {} }, source);
    } catch (err) {
      const message = `${source} not readable: ${err instanceof Error ? err.message : String(err)}`;
      if (this.#ca === null) this.#note(message);
      else logger.warn({ err: message }, 'issuer: the last good CA stays in use');
      return;
    }
    if (next.trustDomain !== trustDomain) {
      this.#drop(`the CA's trust domain is ${next.trustDomain}, the issuer's --trust-domain ${trustDomain}: not issuing`);
      return;
    }
    const changed = this.#ca === null || this.#ca.certPem !== next.certPem || this.#ca.previousCertPem !== next.previousCertPem;
    if (changed && this.#ca !== null) logger.info('issuer: the CA changed; signing with the new root');
    else if (changed) logger.info({ root: next.cert.subject.replaceAll('\n', ', ') }, 'issuer: CA loaded');
    this.#ca = next;
    this.#problem = null;
    const cert = this.#serving;
    const due = cert === null || changed || Date.now() >= cert.notBefore + (cert.notAfter - cert.notBefore) * RENEW_AT_FRACTION;
    if (!due) return;
    this.#serving = issueIssuerCert(next, { lifetimeMs: this.#options.lifetimeMs });
    this.#options.onCredentials(this.#serving);
  }

  #drop(reason: string): void {
    if (this.#ca !== null) this.#options.logger.error({ reason }, 'issuer: CA dropped; not issuing');
    this.#ca = null;
    this.#note(reason);
  }

  #note(reason: string): void {
    if (reason !== this.#problem) this.#options.logger.error({ reason }, 'issuer: cannot sign certificates');
    this.#problem = reason;
  }
}
