/** Kubernetes and SMI objects for the benchmark's manifest folders (pure builders), and YAML. */
import { stringify } from 'yaml';

export type Manifest = Record<string, unknown>;

export function namespace(name: string): Manifest {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations: { 'plexus.dev/mesh': 'true' } } };
}

export interface ServiceSpec {
  readonly port: number;
  readonly targetPort: number;
  /** Without one, endpoints come from an EndpointSlice. */
  readonly selector?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export function service(ns: string, name: string, spec: ServiceSpec): Manifest {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: ns, ...(spec.annotations ? { annotations: { ...spec.annotations } } : {}) },
    spec: {
      ...(spec.selector ? { selector: { ...spec.selector } } : {}),
      ports: [{ name: 'http', port: spec.port, targetPort: spec.targetPort }],
    },
  };
}

/** A running pod at `ip`: in local mode a process bound to that loopback address. */
/** Without `nodeName` the pod is on every node (local mode's rule). */
export function pod(ns: string, name: string, ip: string, serviceAccount: string, labels: Readonly<Record<string, string>>, nodeName?: string): Manifest {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels: { ...labels } },
    spec: { serviceAccountName: serviceAccount, ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'main', image: 'bench' }] },
    status: { phase: 'Running', podIP: ip },
  };
}

export function endpointSlice(ns: string, serviceName: string, name: string, port: number, addresses: readonly string[]): Manifest {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

export function trafficSplit(ns: string, name: string, root: string, backends: readonly { service: string; weight: number }[]): Manifest {
  return {
    apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit',
    metadata: { name, namespace: ns },
    spec: { service: root, backends: backends.map((b) => ({ service: b.service, weight: b.weight })) },
  };
}

/** An HTTPRouteGroup with one match, `all`, for every path and method. */
export function allRoutes(ns: string, name: string): Manifest {
  return {
    apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup',
    metadata: { name, namespace: ns },
    spec: { matches: [{ name: 'all', pathRegex: '/.*', methods: ['*'] }] },
  };
}

/** Grants the `source` ServiceAccount every request matched by `routes` (an `allRoutes` group). */
export function trafficTarget(ns: string, name: string, destination: string, source: string, routes: string): Manifest {
  return {
    apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget',
    metadata: { name, namespace: ns },
    spec: {
      destination: { kind: 'ServiceAccount', name: destination, namespace: ns },
      sources: [{ kind: 'ServiceAccount', name: source, namespace: ns }],
      rules: [{ kind: 'HTTPRouteGroup', name: routes, matches: ['all'] }],
    },
  };
}

/** A multi-document YAML file. */
export function toYaml(objects: readonly Manifest[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}
