/**
 * Secure mode of a Kubernetes-mode agent: SecureMode with cluster credentials (trust bundle
 * ConfigMap, certificates from the leader), tunnel peers from the agent pods, and — while this
 * agent leads — the issuer. The leader obtains its own certificates through its own issuer, like
 * every other agent.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SecureAgentOptions } from '../options.js';
import { ApiClient } from '../../kube/api-client.js';
import { AGENT_SERVICE_ACCOUNT } from '../../kube/labels.js';
import type { Dialer } from '../../node-agent/runtime/dialer.js';
import type { MeshConfig } from '../../routing/mesh-config.js';
import { SecureMode } from '../secure-mode.js';
import { AgentPeers } from './agent-peers.js';
import { clusterCredentials } from './cluster-credentials.js';
import { PromIssuerMetrics } from './issuer-metrics.js';
import { LeaderIssuer } from './leader-issuer.js';

/** A new agent may start before any leader serves: wait this long for its own certificate. */
const START_TIMEOUT_MS = 120_000;

export interface KubeSecureOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly nodeName: string;
  readonly acl: boolean;
  readonly settings: SecureAgentOptions;
  readonly logger: Logger;
  readonly registry: Registry;
}

export class KubeSecure {
  readonly #options: KubeSecureOptions;
  readonly #client: ApiClient;
  readonly #issuer: LeaderIssuer;
  readonly #peers: AgentPeers;
  #mode: SecureMode | null = null;

  constructor(options: KubeSecureOptions) {
    this.#options = options;
    const { kubeConfig, namespace, nodeName, settings, logger } = options;
    this.#client = new ApiClient(kubeConfig);
    this.#issuer = new LeaderIssuer({
      kubeConfig, client: this.#client, namespace, nodeName, logger,
      account: { namespace, serviceAccount: AGENT_SERVICE_ACCOUNT },
      trustDomain: settings.trustDomain, host: settings.tunnelAddress, port: settings.issuerPort,
      lifetimeMs: settings.certLifetimeMs, metrics: new PromIssuerMetrics(options.registry),
    });
    this.#peers = new AgentPeers(this.#client, namespace, settings.tunnelPort, (err) => logger.warn({ err: err.message }, 'secure mode: agent pods not readable (tunnel peers kept)'));
  }

  /** The LeaderElector's callbacks: only the leader serves certificate requests. */
  setLeading(leading: boolean): void {
    void this.#issuer.setLeading(leading);
  }

  /** Resolves once the agent holds its own certificate and the tunnel listens; `signal` gives up waiting. */
  async start(signal: AbortSignal): Promise<void> {
    const { kubeConfig, namespace, nodeName, settings, logger } = this.#options;
    this.#peers.start();
    this.#mode = await SecureMode.start({
      nodeName, trustDomain: settings.trustDomain,
      credentials: clusterCredentials({ kubeConfig, client: this.#client, namespace, trustDomain: settings.trustDomain, issuerPort: settings.issuerPort }),
      tunnelAddress: settings.tunnelAddress, tunnelPort: settings.tunnelPort, peers: this.#peers.peers,
      permissive: settings.permissive, acl: this.#options.acl, logger, registry: this.#options.registry,
      startTimeoutMs: START_TIMEOUT_MS, signal,
    });
  }

  get tunnelPort(): number {
    return this.#mode?.tunnelPort ?? 0;
  }

  readonly dialer: Dialer = (endpoint, source, port) => this.#mode === null
    ? { kind: 'refused', reason: 'secure mode is starting' }
    : this.#mode.dialer(endpoint, source, port);

  async setConfig(config: MeshConfig): Promise<void> {
    await this.#mode?.setConfig(config);
  }

  view(): object {
    return this.#mode?.view() ?? { starting: true };
  }

  async stop(): Promise<void> {
    await this.#mode?.stop();
    await Promise.all([this.#issuer.stop(), this.#peers.stop()]);
  }
}
