/**
 * The parsed options of `plexus agent`, as the mode runners receive them: runLocalAgent
 * (src/run/local-agent.ts, with --manifests) and runKubernetesAgent (src/run/kube-agent.ts).
 * A runner serves until `signal` aborts, then drains and resolves.
 */
import type { Logger } from 'pino';
import type { PathPolicy } from '../node-agent/http/index.js';
import type { SecureAgentOptions } from '../secure/options.js';

export interface AgentOptions {
  /** Local mode: the folder of manifests; null = Kubernetes mode. */
  readonly manifests: string | null;
  readonly kubeconfig: string | null;
  /** The mesh namespace (Kubernetes mode). */
  readonly namespace: string;
  readonly nodeName: string;
  readonly acl: boolean;
  readonly meshDomain: string;
  /** Where listeners bind in Kubernetes mode. */
  readonly listenAddress: string;
  /** Local mode: the block VIPs are allocated from. */
  readonly vipCidr: string;
  /** Local mode DNS responder; port 0 = off. */
  readonly dnsAddress: string;
  readonly dnsPort: number;
  /** 0 = any free port (logged in the `agent ready` line). */
  readonly adminPort: number;
  readonly adminAddress: string;
  readonly accessLog: { readonly enabled: boolean; readonly sampleRate: number };
  /** `--tap-token-file`: the mesh's tap token, for taps from outside this host; null = loopback only. */
  readonly tapTokenFile: string | null;
  /**
   * The mesh-wide default timeout for HTTP Services without `plexus.dev/timeout`: from the end of
   * the request to the response head (0 = none). See HttpLimits.requestTimeoutMs.
   */
  readonly requestTimeoutMs: number;
  /** A UDP flow (one client address) with no datagram for this long is closed and counted. */
  readonly udpIdleTimeoutMs: number;
  /** How HTTP request paths are normalised (`--path-escaped-slashes`, `--merge-slashes`). */
  readonly paths: PathPolicy;
  /** `--secure`: workload certificates, the mTLS tunnel between agents, authorization on the destination node; null = off. */
  readonly secure: SecureAgentOptions | null;
  readonly logger: Logger;
}

export type AgentRunner = (options: AgentOptions, signal: AbortSignal) => Promise<void>;
