/**
 * The parsed options of `plexus agent`, as the mode runners receive them: runLocalAgent
 * (src/local/local-agent.ts, with --manifests) and runKubernetesAgent (src/kube/run.ts).
 * A runner serves until `signal` aborts, then drains and resolves.
 */
import type { Logger } from 'pino';

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
  /** A UDP flow (one client address) with no datagram for this long is closed and counted. */
  readonly udpIdleTimeoutMs: number;
  /** `--secure`: workload certificates, the mTLS tunnel between agents, authorization on the destination node; null = off. */
  readonly secure: SecureAgentOptions | null;
  readonly logger: Logger;
}

export interface SecureAgentOptions {
  readonly trustDomain: string;
  readonly tunnelPort: number;
  /** Where the tunnel listener binds. */
  readonly tunnelAddress: string;
  /** Local mode: the CA folder made by `plexus ca init`. */
  readonly caDir: string | null;
  /** Kubernetes mode: the port of the leader's certificate issuer (the same on every agent). */
  readonly issuerPort: number;
  /** Node name → that node's agent tunnel listener (local mode, `--tunnel-peer`). */
  readonly peers: ReadonlyMap<string, { readonly host: string; readonly port: number }>;
  /** Workload and agent certificate lifetime (default 24 h); renewed at half of it. */
  readonly certLifetimeMs: number;
  /** Let plaintext callers into the tunnel port (migration). */
  readonly permissive: boolean;
}

export type AgentRunner = (options: AgentOptions, signal: AbortSignal) => Promise<void>;
