/**
 * Secure mode in a running agent: the certificates of this node's ServiceAccounts and of the
 * agent itself, the tunnel listener other agents call, and the dialer that sends the data
 * plane's connections to endpoints on other nodes through the tunnel of the calling pod's
 * identity. Where certificates and roots come from is the `Credentials` of the mode: the CA
 * folder in local mode (local-credentials.ts), the leader in a cluster (cluster/).
 *
 * Order of an apply: `setConfig` first (certificates for new pods, destination rules), then the
 * data plane's apply, so a new pod's first call finds its certificate.
 */
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { PathPolicy } from '../node-agent/http/request-target.js';
import type { Dialer, UpstreamPath } from '../node-agent/runtime/dialer.js';
import { identityKey } from '../node-agent/runtime/identities.js';
import type { MeshConfig, SourceIdentity } from '../routing/mesh-config.js';
import { CertificateStore, type CertificateSource } from './certificate-store.js';
import { DestinationPolicy } from './destination.js';
import { secureFindings, type SecureFinding, type TrustedRoots } from './health.js';
import type { SecureMetrics } from './metrics.js';
import { PromSecureMetrics } from './prom-metrics.js';
import { TunnelClient, type TunnelPeer } from './tunnel/client.js';
import { formatAuthority } from './tunnel/protocol.js';
import { TunnelServer } from './tunnel/server.js';
import { nodeIdentity, type IssuedCert } from './workload-cert.js';

/** Another node's tunnel listener. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  /**
   * That node's agent runs plain mode (a rollout is switching secure mode on or off): it has no
   * tunnel listener, so its node's pods are dialled directly, as in plain mode.
   */
  readonly plain?: boolean;
}

/** Where certificates and trusted roots come from. */
export interface Credentials {
  /** Obtains a certificate for one identity of this node (a ServiceAccount here, or the agent). */
  readonly issue: CertificateSource;
  /** The PEM roots peers' certificates must chain to. */
  trustBundle(): string[];
  /** The signing root and, during a rotation, the old one (for /config and findings). */
  roots(): TrustedRoots;
  /** Watch for CA changes (rotation, retirement) until `stop`. */
  start(onChange: () => void): void;
  stop(): void;
}

export interface CredentialsContext {
  /** The pods of this node: the current MeshConfig's `identities`. */
  readonly identities: () => readonly SourceIdentity[];
  readonly metrics: SecureMetrics;
  readonly logger: Logger;
}

export type CredentialsFactory = (context: CredentialsContext) => Promise<Credentials>;

export interface SecureModeOptions {
  readonly nodeName: string;
  readonly trustDomain: string;
  readonly credentials: CredentialsFactory;
  /** Where this agent's tunnel listener binds. */
  readonly tunnelAddress: string;
  readonly tunnelPort: number;
  /** Node name → its agent's tunnel listener. */
  readonly peers: ReadonlyMap<string, PeerAddress>;
  readonly permissive: boolean;
  readonly acl: boolean;
  /** The agent's path normalisation (`--path-escaped-slashes`, `--merge-slashes`), applied again on the destination side. */
  readonly paths: PathPolicy;
  readonly logger: Logger;
  /** The agent's `/metrics` registry. */
  readonly registry: Registry;
  /**
   * How long to keep asking for the agent's own certificate at start (a cluster agent may start
   * before a leader serves); default 0: one attempt.
   */
  readonly startTimeoutMs?: number;
  /** Stops that wait (the agent was asked to stop while starting). */
  readonly signal?: AbortSignal;
}

interface PodsOfNode {
  current: readonly SourceIdentity[];
}

const DIRECT: UpstreamPath = Object.freeze({ kind: 'direct' });
const SIGNING_ROOT_RETRY_MS = 10_000;

export class SecureMode {
  readonly #options: SecureModeOptions;
  readonly #credentials: Credentials;
  readonly #pods: PodsOfNode;
  readonly #store: CertificateStore;
  readonly #client: TunnelClient;
  readonly #policy: DestinationPolicy;
  readonly #metrics: PromSecureMetrics;
  #server: TunnelServer | null = null;
  /** Re-issues again while a certificate is not from the signing root yet (see #moveToSigningRoot). */
  #rootTimer: NodeJS.Timeout | null = null;
  #stopped = false;

  private constructor(options: SecureModeOptions, credentials: Credentials, metrics: PromSecureMetrics, pods: PodsOfNode) {
    this.#options = options;
    this.#pods = pods;
    this.#credentials = credentials;
    const { logger, nodeName } = options;
    this.#metrics = metrics;
    this.#store = new CertificateStore({
      source: credentials.issue,
      metrics,
      onError: (identity, err) => logger.warn({ identity, err: err.message }, 'certificate not obtained (the old one, if any, stays in use)'),
      onChange: (cert) => this.#onCertificate(cert),
    });
    this.#client = new TunnelClient({
      certificate: (identity) => this.#store.get(identity),
      trustBundle: () => this.#credentials.trustBundle(),
      trustDomain: options.trustDomain,
    });
    this.#policy = new DestinationPolicy({ nodeName, acl: options.acl, paths: options.paths, logger, metrics });
  }

  /** Reads the CA, obtains the agent's certificate and opens the tunnel listener. */
  static async start(options: SecureModeOptions): Promise<SecureMode> {
    const metrics = new PromSecureMetrics(options.registry, options.permissive);
    // The pods of this node, as the last setConfig saw them: the local issuer checks requests against them.
    const pods: PodsOfNode = { current: [] };
    const credentials = await options.credentials({ identities: () => pods.current, metrics, logger: options.logger });
    const started = new SecureMode(options, credentials, metrics, pods);
    try {
      await started.#open();
    } catch (err) {
      await started.stop();
      throw err;
    }
    return started;
  }

  async #open(): Promise<void> {
    const { logger, nodeName } = this.#options;
    const own = await this.#ownCertificate();
    const server = new TunnelServer({
      host: this.#options.tunnelAddress,
      port: this.#options.tunnelPort,
      trustDomain: this.#options.trustDomain,
      credentials: { certPem: own.certPem, keyPem: own.keyPem, trustBundle: this.#credentials.trustBundle() },
      authorize: this.#policy.authorize,
      deliver: this.#policy.deliver,
      permissive: this.#options.permissive,
      logger,
      metrics: this.#metrics,
    });
    await server.listen().catch((err: Error) => {
      throw new Error(`tunnel: cannot listen on ${formatAuthority(this.#options.tunnelAddress, this.#options.tunnelPort)}: ${err.message} (see --tunnel-port)`);
    });
    this.#server = server;
    this.#store.start();
    this.#credentials.start(() => this.#onCaChange());
    logger.info({ address: this.#options.tunnelAddress, port: server.address?.port, trustDomain: this.#options.trustDomain, nodeName,
      permissive: this.#options.permissive, peers: Object.fromEntries(this.#options.peers) }, 'secure mode: tunnel listening');
  }

  async #ownCertificate(): Promise<IssuedCert> {
    const identity = nodeIdentity(this.#options.nodeName);
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 0);
    for (;;) {
      await this.#store.sync([identity]);
      const own = this.#store.get(identity);
      if (own !== undefined) return own;
      if (Date.now() >= deadline || this.#options.signal?.aborted) throw new Error(`no certificate for the agent of node ${this.#options.nodeName}`);
      await sleep(1000, undefined, this.#options.signal ? { signal: this.#options.signal } : {}).catch(() => undefined);
    }
  }

  get tunnelPort(): number {
    return this.#server?.address?.port ?? 0;
  }

  /** Hold certificates for exactly this node's ServiceAccounts (and the agent), and judge streams by `config`. */
  async setConfig(config: MeshConfig): Promise<void> {
    this.#pods.current = config.identities;
    this.#policy.setConfig(config);
    const wanted = new Set(config.identities.map(identityKey));
    wanted.add(nodeIdentity(this.#options.nodeName));
    await this.#store.sync(wanted);
  }

  /** The data plane's dialer: same node direct, other nodes through the caller identity's tunnel. */
  readonly dialer: Dialer = (endpoint, source, port): UpstreamPath => {
    if (endpoint.nodeName === null || endpoint.nodeName === this.#options.nodeName) return DIRECT;
    const peer = this.#options.peers.get(endpoint.nodeName);
    if (peer === undefined) return { kind: 'refused', reason: `secure mode: no tunnel peer for node ${endpoint.nodeName} (see --tunnel-peer)` };
    if (peer.plain === true) return DIRECT;
    if (source === null) return { kind: 'refused', reason: 'secure mode: the caller is not a known pod of this node, so it has no identity (fail closed)' };
    const identity = identityKey(source);
    if (this.#store.get(identity) === undefined) return { kind: 'refused', reason: `secure mode: no certificate held for ${identity} yet (fail closed)` };
    const { service, port: meshPort } = port;
    const tunnelPeer: TunnelPeer = { host: peer.host, port: peer.port, nodeName: endpoint.nodeName };
    const target = { host: endpoint.ip, port: endpoint.port, service: `${service.namespace}/${service.name}:${meshPort.port}/${meshPort.protocol}` };
    return {
      kind: 'via',
      // One pool per (identity, endpoint): a pooled connection (a tunnel stream) never carries another identity.
      key: `${identity}|${endpoint.nodeName}|${formatAuthority(endpoint.ip, endpoint.port)}`,
      // Called at once by the pool: the certificate checked above is the one the stream presents.
      connect: () => this.#client.stream(identity, tunnelPeer, target),
    };
  };

  /** For `/config`: what secure mode is doing (no key material). */
  view(): object {
    const roots = this.#credentials.roots();
    return {
      trustDomain: this.#options.trustDomain,
      permissive: this.#options.permissive,
      tunnel: { address: this.#options.tunnelAddress, port: this.tunnelPort },
      peers: Object.fromEntries([...this.#options.peers].map(([node, peer]) => [node, peer.plain === true ? 'plain mode: dialled directly' : formatAuthority(peer.host, peer.port)])),
      ca: { root: roots.cert.subject.replaceAll('\n', ', '), notAfter: new Date(roots.cert.validTo).toISOString(), rotating: roots.previousCert !== null },
      certificates: this.#certificates().map((cert) => ({
        identity: cert.identity, spiffeId: cert.spiffeId, signedBy: new X509Certificate(cert.certPem).issuer.replaceAll('\n', ', '),
        notBefore: new Date(cert.notBefore).toISOString(), notAfter: new Date(cert.notAfter).toISOString(),
      })),
      findings: this.findings(),
    };
  }

  /** What `plexus check` warns about: certificates near expiry, a CA near its end. */
  findings(now = Date.now()): SecureFinding[] {
    return secureFindings(this.#credentials.roots(), this.#certificates(), now);
  }

  /**
   * Stops accepting tunnels; inbound streams in flight may finish within `drainTimeoutMs`. Run
   * beside the data plane's own drain, whose outbound streams still use this mode until `stop`.
   */
  async closeTunnel(drainTimeoutMs: number): Promise<void> {
    await this.#server?.close(drainTimeoutMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#rootTimer !== null) clearTimeout(this.#rootTimer);
    this.#credentials.stop();
    this.#store.stop();
    await this.#server?.close();
    this.#client.close();
    this.#policy.close();
  }

  #certificates(): IssuedCert[] {
    return this.#store.identities().map((identity) => this.#store.get(identity)).filter((cert): cert is IssuedCert => cert !== undefined);
  }

  /** A rotation or retirement: the new trust bundle applies to new connections, and every certificate moves to the new root now. */
  #onCaChange(): void {
    this.#options.logger.info({ roots: this.#credentials.trustBundle().length }, 'CA changed: new trust bundle, re-issuing certificates');
    this.#pushCredentials();
    void this.#moveToSigningRoot();
  }

  /**
   * Every certificate moves to the bundle's signing root. In a cluster the bundle shows a new
   * root before the issuer signs with it (`plexus ca rotate` publishes first, and the issuer
   * re-reads the Secret on its own timer), so a re-issue may still come from the old root: it is
   * tried again every 10 s until every certificate comes from the new one (or the CA changes again).
   */
  async #moveToSigningRoot(): Promise<void> {
    if (this.#rootTimer !== null) clearTimeout(this.#rootTimer);
    this.#rootTimer = null;
    await this.#store.renewAll();
    const signing = this.#credentials.roots().cert;
    if (this.#stopped || this.#certificates().every((cert) => new X509Certificate(cert.certPem).checkIssued(signing))) return;
    this.#rootTimer = setTimeout(() => void this.#moveToSigningRoot(), SIGNING_ROOT_RETRY_MS);
    this.#rootTimer.unref();
  }


  #onCertificate(cert: IssuedCert): void {
    if (cert.identity === nodeIdentity(this.#options.nodeName)) this.#pushCredentials();
  }

  #pushCredentials(): void {
    const own = this.#store.get(nodeIdentity(this.#options.nodeName));
    if (this.#server === null || own === undefined) return;
    this.#server.updateCredentials({ certPem: own.certPem, keyPem: own.keyPem, trustBundle: this.#credentials.trustBundle() });
  }
}
