/**
 * Secure mode of a Kubernetes-mode agent: SecureMode with cluster credentials (trust bundle
 * ConfigMap, certificates from the issuer Deployment through its Service) and tunnel peers from
 * the agent pods (watched by the caller, which also reads the mesh's secure mode from them). Issuance does not depend on which agent leads.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SecureAgentOptions } from '../options.js';
import { ApiClient } from '../../kube/api-client.js';
import type { PathPolicy } from '../../node-agent/http/request-target.js';
import type { Dialer } from '../../node-agent/runtime/dialer.js';
import type { MeshConfig } from '../../routing/mesh-config.js';
import { SecureMode, type PeerAddress } from '../secure-mode.js';
import { agentPeers } from './agent-peers.js';
import type { AgentPods } from './agent-pods.js';
import { clusterCredentials } from './cluster-credentials.js';

/** A new agent may start before the issuer serves (a fresh install): wait this long for its own certificate. */
const START_TIMEOUT_MS = 120_000;

export interface KubeSecureOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly nodeName: string;
  readonly acl: boolean;
  /** The agent's path normalisation, applied again to requests arriving through the tunnel. */
  readonly paths: PathPolicy;
  readonly settings: SecureAgentOptions;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly agentPods: AgentPods;
}

export class KubeSecure {
  readonly #options: KubeSecureOptions;
  readonly #client: ApiClient;
  readonly #peers: ReadonlyMap<string, PeerAddress>;
  #mode: SecureMode | null = null;

  constructor(options: KubeSecureOptions) {
    this.#options = options;
    this.#client = new ApiClient(options.kubeConfig);
    this.#peers = agentPeers(options.agentPods, options.settings.tunnelPort);
  }

  /** Resolves once the agent holds its own certificate and the tunnel listens; `signal` gives up waiting. */
  async start(signal: AbortSignal): Promise<void> {
    const { kubeConfig, namespace, nodeName, settings, logger } = this.#options;
    this.#mode = await SecureMode.start({
      nodeName, trustDomain: settings.trustDomain,
      credentials: clusterCredentials({ kubeConfig, client: this.#client, namespace, trustDomain: settings.trustDomain, issuer: settings.issuer }),
      tunnelAddress: settings.tunnelAddress, tunnelPort: settings.tunnelPort, peers: this.#peers,
      permissive: settings.permissive, acl: this.#options.acl, paths: this.#options.paths, logger, registry: this.#options.registry,
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

  /** Stops accepting tunnels; inbound streams may finish within `drainTimeoutMs` (see SecureMode.closeTunnel). */
  async closeTunnel(drainTimeoutMs: number): Promise<void> {
    await this.#mode?.closeTunnel(drainTimeoutMs);
  }

  async stop(): Promise<void> {
    await this.#mode?.stop();
  }
}
