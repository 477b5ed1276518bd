/**
 * The issuer while this agent leads: reads the CA Secret (again every `reloadMs`, so a
 * `plexus ca rotate` reaches it), serves the issuance endpoint with a server certificate for its
 * own agent identity signed by that CA, and closes the endpoint when leadership ends. Only the
 * leader ever reads the CA key.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { MeshCa } from '../ca.js';
import { RENEW_AT_FRACTION } from '../defaults.js';
import { issueNodeCert, type IssuedCert } from '../workload-cert.js';
import type { ApiClient } from '../../kube/api-client.js';
import { CA_SECRET_NAME } from './ca-objects.js';
import { readCaSecret } from './ca-store.js';
import type { AgentAccount } from './agent-token.js';
import { IssuerServer } from './issuer-server.js';
import { IssuerService, type IssuerMetrics } from './issuer-service.js';
import { issuerLookups } from './kube-lookups.js';
import { typedClient } from '../../kube/typed-client.js';

export interface LeaderIssuerOptions {
  readonly kubeConfig: KubeConfig;
  readonly client: ApiClient;
  readonly namespace: string;
  readonly account: AgentAccount;
  readonly nodeName: string;
  readonly trustDomain: string;
  readonly host: string;
  readonly port: number;
  readonly lifetimeMs: number;
  readonly logger: Logger;
  readonly metrics: IssuerMetrics;
  /** How often the Secret is re-read; default 10 s. */
  readonly reloadMs?: number;
}

export class LeaderIssuer {
  readonly #options: LeaderIssuerOptions;
  readonly #core: CoreV1Api;
  #leading = false;
  #ca: MeshCa | null = null;
  #serverCert: IssuedCert | null = null;
  #server: IssuerServer | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Serialises lead / step-down / reload. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: LeaderIssuerOptions) {
    this.#options = options;
    this.#core = typedClient(options.kubeConfig, CoreV1Api);
  }

  /** Leadership changed (the LeaderElector's callbacks). */
  setLeading(leading: boolean): Promise<void> {
    this.#leading = leading;
    return this.#enqueue(() => (leading ? this.#refresh() : this.#close()));
  }

  stop(): Promise<void> {
    this.#leading = false;
    return this.#enqueue(() => this.#close());
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(step).catch((err: unknown) => {
      this.#options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'issuer: not serving');
    });
    return this.#queue;
  }

  /** Read the CA; (re)start the endpoint or renew its certificate as needed. */
  async #refresh(): Promise<void> {
    if (!this.#leading) return;
    this.#schedule();
    const { namespace, logger } = this.#options;
    let stored;
    try {
      stored = await readCaSecret(this.#core, namespace);
    } catch (err) {
      logger.error({ err: (err as Error).message }, `issuer: Secret ${namespace}/${CA_SECRET_NAME} not readable; the last good CA stays in use`);
      return;
    }
    if (stored === null) {
      logger.error(`issuer: no Secret ${namespace}/${CA_SECRET_NAME}: create the mesh CA with plexus prepare`);
      return;
    }
    if (stored.ca.trustDomain !== this.#options.trustDomain) {
      logger.error(`issuer: the CA's trust domain is ${stored.ca.trustDomain}, the agents' --trust-domain ${this.#options.trustDomain}: not issuing`);
      return;
    }
    const changed = this.#ca === null || this.#ca.certPem !== stored.ca.certPem || this.#ca.previousCertPem !== stored.ca.previousCertPem;
    this.#ca = stored.ca;
    const cert = this.#serverCert;
    const due = cert === null || changed || Date.now() >= cert.notBefore + (cert.notAfter - cert.notBefore) * RENEW_AT_FRACTION;
    if (due) this.#serverCert = issueNodeCert(stored.ca, this.#options.nodeName, { lifetimeMs: this.#options.lifetimeMs });
    const credentials = this.#serverCert!;
    if (this.#server !== null) {
      if (due) this.#server.updateCredentials(credentials);
      if (changed) logger.info('issuer: the CA changed; signing with the new root');
      return;
    }
    const service = new IssuerService({
      lookups: issuerLookups(this.#options.client, namespace),
      account: this.#options.account,
      ca: () => this.#ca!,
      logger,
      metrics: this.#options.metrics,
      lifetimeMs: this.#options.lifetimeMs,
    });
    const server = new IssuerServer({
      host: this.#options.host, port: this.#options.port, service, credentials, logger,
      onInvalid: () => this.#options.metrics.issuerDecision('invalid'),
    });
    await server.listen();
    this.#server = server;
    logger.info({ address: this.#options.host, port: server.port }, 'issuer: serving certificate requests (leader)');
  }

  async #close(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const server = this.#server;
    this.#server = null;
    this.#serverCert = null;
    this.#ca = null;
    if (server !== null) {
      await server.close();
      this.#options.logger.info('issuer: stopped (no longer leading)');
    }
  }

  #schedule(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#enqueue(() => this.#refresh()), this.#options.reloadMs ?? 10_000);
    this.#timer.unref();
  }
}
