/** The settings of secure mode (`plexus agent --secure …`), as the mode runners hand them to secure/. */
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
