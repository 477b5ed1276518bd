/**
 * Which Services are meshed, and what each of their ports carries. A Service is meshed by its
 * own `plexus.dev/mesh: "true"`, or by its Namespace's unless it says `"false"`. Headless and
 * ExternalName Services have no single address to proxy: reported and skipped.
 */
import { fitted } from '../model/fitted.js';
import { portKey, type PortProtocol, type Scheme, type TrafficType } from './mesh-config.js';
import type { NamespaceInfo, ServiceInfo } from './kube/types.js';
import { ProblemSink } from './problem-sink.js';
import type { Problem } from '../model/problem.js';
import { ANNOTATIONS } from './annotations.js';

/**
 * A port whose `appProtocol` names cleartext HTTP/2 is proxied as h2c whatever the Service's
 * `plexus.dev/scheme` says (GEP-1911's `kubernetes.io/h2c`, and `grpc`/`h2c` as Istio and Linkerd
 * read them); every other port follows the annotation.
 */
const H2C_APP_PROTOCOLS: ReadonlySet<string> = new Set(['kubernetes.io/h2c', 'h2c', 'grpc']);

export interface MeshedPort {
  /** `portKey()`: what its listener port is allocated under. */
  readonly allocationKey: string;
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  /** The Service's numeric targetPort, when it states one. */
  readonly targetPort: number | null;
  readonly trafficType: TrafficType;
  readonly scheme: Scheme;
}

/** A meshed Service with the ports the mesh serves. */
export interface MeshedService {
  readonly service: ServiceInfo;
  readonly ports: readonly MeshedPort[];
}

export function isMeshed(service: ServiceInfo, namespaces: ReadonlyMap<string, NamespaceInfo>): boolean {
  return service.annotations.mesh ?? namespaces.get(service.id.namespace)?.mesh ?? false;
}

/**
 * The Service's own cluster DNS names lead to the mesh (`plexus.dev/own-names` on it, else on its
 * namespace; off by default). Only meaningful for a meshed Service.
 */
export function hasOwnNames(service: ServiceInfo, namespaces: ReadonlyMap<string, NamespaceInfo>): boolean {
  return service.annotations.ownNames ?? namespaces.get(service.id.namespace)?.ownNames ?? false;
}

export interface MeshedPorts {
  /** Null when the Service cannot be meshed at all (headless, ExternalName). */
  readonly ports: readonly MeshedPort[] | null;
  readonly problems: readonly Problem[];
}

/** The ports of a meshed Service, with the problems of its mesh-only annotations. */
export function meshedPorts(service: ServiceInfo): MeshedPorts {
  const sink = new ProblemSink({ kind: 'Service', namespace: service.id.namespace, name: service.id.name }, service.source);
  if (service.type === 'ExternalName') {
    sink.warning('ExternalName Services cannot be meshed (skipped)');
    return { ports: null, problems: sink.problems };
  }
  if (service.headless) {
    sink.warning('headless Services (clusterIP: None) cannot be meshed (skipped)');
    return { ports: null, problems: sink.problems };
  }
  const { trafficType, scheme } = service.annotations;
  const ports: MeshedPort[] = [];
  for (const port of service.ports) {
    const id = `port ${port.port}/${port.protocol}`;
    if (port.protocol === 'SCTP') {
      sink.warning(`${id}: SCTP is not supported (port skipped)`);
      continue;
    }
    let type: TrafficType;
    if (port.protocol === 'UDP') {
      if (trafficType !== null && trafficType !== 'udp') sink.error(`${id}: ${ANNOTATIONS.trafficType} "${trafficType}" does not fit a UDP port (udp applies)`);
      type = 'udp';
    } else if (trafficType === 'udp') {
      sink.error(`${id}: ${ANNOTATIONS.trafficType} "udp" does not fit a TCP port (http applies)`);
      type = 'http';
    } else {
      type = trafficType ?? 'http';
    }
    ports.push({
      allocationKey: portKey(service.id.namespace, service.id.name, port.port, port.protocol),
      name: port.name, port: port.port, protocol: port.protocol,
      targetPort: typeof port.targetPort === 'number' ? port.targetPort : port.targetPort === null ? port.port : null,
      trafficType: type, scheme: H2C_APP_PROTOCOLS.has(port.appProtocol ?? '') ? 'h2c' : scheme,
    });
  }
  if (ports.length === 0) sink.warning('no TCP or UDP port to mesh');
  ports.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
  return { ports: fitted(ports), problems: [...service.annotations.meshedProblems, ...sink.problems] };
}
