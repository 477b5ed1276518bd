/** How the compiler is asked to compile a Snapshot, and the defaults of those settings. */
import type { Allocation } from './mesh-config.js';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface CompileOptions {
  /** This agent's node: selects the source identities (pods of this node). */
  readonly nodeName: string;
  readonly meshDomain: string;
  /**
   * Where agent listener ports are allocated (Kubernetes mode). Null allocates none (every
   * `listenerPort` is 0, no range-full problems): local mode listens on VIP:port instead.
   */
  readonly listenerPorts: PortRange | null;
  /** Local mode: the CIDR virtual IPs are allocated from; absent in Kubernetes mode. */
  readonly vipCidr?: string;
  /** The allocation of the previous compile (or read from shadow Services): never moved. */
  readonly previous?: Allocation;
  /**
   * Local mode: a Service with a selector and no EndpointSlice/Endpoints object gets its
   * endpoints from the Pods of the snapshot that its selector matches.
   */
  readonly deriveEndpointsFromPods?: boolean;
}

export const DEFAULT_LISTENER_PORTS: PortRange = { min: 10000, max: 14999 };
export const DEFAULT_MESH_DOMAIN = 'plexus';
export const DEFAULT_VIP_CIDR = '127.77.0.0/16';
