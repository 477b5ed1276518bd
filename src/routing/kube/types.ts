/** The compiler's validated view of the Kubernetes objects it reads (one per raw object). */
import type { Endpoint, PortProtocol } from '../mesh-config.js';
import type { Problem, SourceLocation } from '../../model/problem.js';
import type { ServiceAnnotations } from '../annotations.js';
import type { ObjectIdentity } from '../raw.js';

interface KubeObjectBase {
  readonly id: ObjectIdentity;
  /** `namespace/name` (just `name` for Namespaces). */
  readonly key: string;
  readonly source?: SourceLocation;
}

export type ServicePortProtocol = PortProtocol | 'SCTP';

export interface ServicePortInfo {
  readonly name: string;
  readonly port: number;
  readonly protocol: ServicePortProtocol;
  /** A number, a container port name, or null when absent (= `port`). */
  readonly targetPort: number | string | null;
  /** `spec.ports[].appProtocol` as written, null when absent. */
  readonly appProtocol: string | null;
}

/** What the `plexus.dev/*` annotations of a Service ask for, already validated. */
export interface ServiceInfo extends KubeObjectBase {
  readonly kind: 'Service';
  readonly type: string;
  readonly clusterIP: string | null;
  readonly headless: boolean;
  /** Null when the Service has no selector (its endpoints are managed by hand). */
  readonly selector: Readonly<Record<string, string>> | null;
  readonly ports: readonly ServicePortInfo[];
  readonly annotations: ServiceAnnotations;
}

export interface EndpointPortInfo {
  readonly name: string;
  readonly port: number;
  readonly protocol: ServicePortProtocol;
}

/**
 * One address as an EndpointSlice / Endpoints object states it, before pods are looked up: already
 * the endpoint of its group's first port (`port`; 0 when the group has none), with no
 * ServiceAccount. Resolution hands out this very object when the pod lookup adds nothing (pods of
 * other nodes are not watched unless in ACL mode), so most endpoints exist once, not twice.
 */
export type EndpointAddress = Endpoint;

/** Addresses that share one port list: an EndpointSlice, or one subset of an Endpoints object. */
export interface EndpointGroup {
  readonly ports: readonly EndpointPortInfo[];
  readonly addresses: readonly EndpointAddress[];
}

export interface EndpointSliceInfo extends KubeObjectBase {
  readonly kind: 'EndpointSlice';
  /** `namespace/name` of the Service from the `kubernetes.io/service-name` label. */
  readonly service: string | null;
  readonly groups: readonly EndpointGroup[];
}

export interface EndpointsInfo extends KubeObjectBase {
  readonly kind: 'Endpoints';
  /** Legacy Endpoints are named after their Service. */
  readonly service: string;
  readonly groups: readonly EndpointGroup[];
}

export interface ContainerPortInfo {
  readonly name: string;
  readonly port: number;
  readonly protocol: ServicePortProtocol;
}

export interface PodInfo extends KubeObjectBase {
  readonly kind: 'Pod';
  readonly serviceAccount: string;
  readonly nodeName: string | null;
  readonly hostNetwork: boolean;
  /** `status.podIP` first, then the other `status.podIPs`; empty before the pod has an IP. */
  readonly ips: readonly string[];
  /** False once the pod Succeeded or Failed: it holds no IP any more. */
  readonly running: boolean;
  /** False when its Ready condition is False. */
  readonly ready: boolean;
  /** True once it has a deletionTimestamp. */
  readonly terminating: boolean;
  readonly containerPorts: readonly ContainerPortInfo[];
}

export interface NamespaceInfo extends KubeObjectBase {
  readonly kind: 'Namespace';
  /** `plexus.dev/mesh` on the namespace; null when absent or invalid. */
  readonly mesh: boolean | null;
  /** `plexus.dev/own-names` on the namespace; null when absent or invalid. */
  readonly ownNames: boolean | null;
}

export type KubeObject = ServiceInfo | EndpointSliceInfo | EndpointsInfo | PodInfo | NamespaceInfo;

/** A reader's result: the object (null when unusable) and every problem found in it. */
export interface ReadResult<T> {
  readonly object: T | null;
  readonly problems: readonly Problem[];
}
