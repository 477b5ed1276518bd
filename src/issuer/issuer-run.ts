/**
 * `plexus issuer`: the certificate issuer of a cluster, run by the Deployment `plexus-issuer`
 * (manifests/45-issuer.yaml) as the ServiceAccount `plexus-issuer`, the only one that may read the
 * CA Secret. Stateless: every replica reads the Secret and answers certificate requests (TokenReview,
 * pod-bound token, node placement: issuer-service.ts); agents reach it through the Service
 * `plexus-issuer`. Leader election plays no part, so a new agent gets its certificates whichever
 * agent leads, and the agents hold no CA key.
 *
 * Stopping (SIGTERM): `/readyz` fails at once, the endpoint keeps accepting for the drain window
 * (endpoint removal must reach kube-proxy) answering with `Connection: close`, then stops
 * accepting and lets requests in flight finish within the drain timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ApiClient } from '../kube/api-client.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { AGENT_SERVICE_ACCOUNT } from '../kube/labels.js';
import { AdminServer } from '../node-agent/admin/admin-server.js';
import { TapEndpoint } from '../node-agent/admin/tap-endpoint.js';
import { registerProcessMetrics } from '../node-agent/telemetry/process-metrics.js';
import { Registry } from '../node-agent/telemetry/prom.js';
import { TapHub } from '../node-agent/telemetry/tap.js';
import type { IssuedCert } from '../secure/workload-cert.js';
import { IssuerCa } from './issuer-ca.js';
import { PromIssuerMetrics } from './issuer-metrics.js';
import { IssuerServer } from './issuer-server.js';
import { IssuerService } from './issuer-service.js';
import { issuerLookups } from './kube-lookups.js';

/** What `plexus issuer` takes as it is from its command line (issuer.ts). */
export interface IssuerPlaces {
  /** The mesh namespace: the CA Secret and the agent pods live there. */
  readonly namespace: string;
  readonly trustDomain: string;
  readonly listenAddress: string;
  readonly port: number;
  readonly adminAddress: string;
  readonly adminPort: number;
}

export interface IssuerRunOptions extends IssuerPlaces {
  readonly kubeconfig: string | null;
  /** Lifetime of the certificates it signs. */
  readonly certLifetimeMs: number;
  /** After SIGTERM: how long the endpoint keeps accepting while not ready. */
  readonly drainWindowMs: number;
  /** Then: how long requests in flight may take. */
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** How often the CA Secret is re-read; default 10 s (tests shorten it). */
  readonly caReloadMs?: number;
}

export async function runIssuer(options: IssuerRunOptions, signal: AbortSignal): Promise<void> {
  const { logger, namespace } = options;
  // API calls outlive the stop signal by the drain: requests still arriving need their TokenReview.
  const calls = new AbortController();
  const client = new ApiClient(loadKubeConfig(options.kubeconfig), { signal: calls.signal });
  const registry = new Registry();
  registerProcessMetrics(registry);
  const metrics = new PromIssuerMetrics(registry);
  let server: IssuerServer | null = null;
  let listening = false;
  let draining = false;
  let failed: (error: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  const service = new IssuerService({
    lookups: issuerLookups(client, namespace),
    account: { namespace, serviceAccount: AGENT_SERVICE_ACCOUNT },
    ca: () => ca.ca,
    unavailable: () => ca.problem ?? 'the issuer has no CA',
    logger, metrics, lifetimeMs: options.certLifetimeMs,
  });
  const serve = (cert: IssuedCert): void => {
    if (server !== null) {
      server.updateCredentials(cert);
      return;
    }
    server = new IssuerServer({ host: options.listenAddress, port: options.port, service, credentials: cert, logger, onInvalid: () => metrics.issuerDecision('invalid') });
    server.listen().then(() => {
      listening = true;
      logger.info({ address: options.listenAddress, port: server?.port }, 'issuer: serving certificate requests');
    }, (err: Error) => failed(new Error(`issuer: cannot listen on ${options.listenAddress}:${options.port}: ${err.message} (see --port)`)));
  };
  const ca = new IssuerCa({
    client, namespace, trustDomain: options.trustDomain, lifetimeMs: options.certLifetimeMs, logger, onCredentials: serve,
    ...(options.caReloadMs === undefined ? {} : { reloadMs: options.caReloadMs }),
  });
  const notReady = (): string | null => draining ? 'draining: the issuer is stopping' : ca.problem ?? (listening ? null : 'the endpoint is not listening yet');
  const admin = new AdminServer({
    registry,
    // The issuer proxies no requests: its /tap (loopback only, no tap token) never shows any.
    tap: new TapEndpoint(new TapHub(), null),
    readiness: () => (notReady() === null ? { ready: true, root: ca.ca?.cert.subject.replaceAll('\n', ', ') } : null),
    notReady: () => ({ ready: false, reason: notReady() }),
    config: () => issuerView(ca, options, notReady()),
  });
  await admin.listen(options.adminAddress, options.adminPort);
  logger.info({ address: options.adminAddress, port: admin.port }, 'admin server listening');
  try {
    await ca.start();
    await Promise.race([failure, new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    })]);
    draining = true;
    const serving = server as IssuerServer | null;
    if (serving !== null && listening) {
      logger.info({ drainWindowMs: options.drainWindowMs }, 'stopping: not ready; still answering during the drain window');
      serving.startDraining();
      await sleep(options.drainWindowMs);
    }
    await serving?.close(options.drainTimeoutMs);
  } finally {
    ca.stop();
    calls.abort();
    await admin.close();
  }
  logger.info('stopped');
}

/** `/config` of the issuer: its CA (never the key), the serving certificate's end, readiness. */
function issuerView(ca: IssuerCa, options: IssuerRunOptions, notReady: string | null): object {
  const current = ca.ca;
  return {
    ready: notReady === null,
    ...(notReady === null ? {} : { reason: notReady }),
    trustDomain: options.trustDomain,
    ca: current === null ? null : {
      root: current.cert.subject.replaceAll('\n', ', '),
      notAfter: new Date(current.cert.validTo).toISOString(),
      rotating: current.previousCertPem !== null,
    },
    serving: ca.serving === null ? null : { notAfter: new Date(ca.serving.notAfter).toISOString() },
    certLifetimeSeconds: options.certLifetimeMs / 1000,
  };
}
