/** Small builders of raw Kubernetes and SMI objects for the routing tests. */
import { compile } from '../../../src/routing/compile.js';
import type { MeshConfig, MeshPort, MeshService } from '../../../src/routing/mesh-config.js';
import type { Problem } from '../../../src/model/problem.js';
import type { CompileOptions } from '../../../src/routing/compile-options.js';
import type { RawObject } from '../../../src/model/snapshot.js';

export const OPTIONS: CompileOptions = {
  nodeName: 'node-a',
  meshDomain: 'plexus',
  listenerPorts: { min: 10000, max: 10099 },
};

export function compileObjects(objects: readonly RawObject[], options: Partial<CompileOptions> = {}): MeshConfig {
  return compile({ objects }, { ...OPTIONS, ...options });
}

interface PortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: unknown;
}

interface ServiceSpec {
  namespace?: string;
  annotations?: Record<string, string>;
  ports?: PortSpec[];
  selector?: Record<string, string>;
  clusterIP?: string;
  type?: string;
  creationTimestamp?: string;
}

export function service(name: string, spec: ServiceSpec = {}): RawObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: spec.namespace ?? 'shop', annotations: spec.annotations ?? { 'plexus.dev/mesh': 'true' } },
    spec: {
      ...(spec.type ? { type: spec.type } : {}),
      clusterIP: spec.clusterIP ?? '10.96.0.10',
      selector: spec.selector ?? { app: name },
      ports: spec.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  };
}

export function namespace(name: string, annotations: Record<string, string> = {}): RawObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } };
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  pod?: string;
  nodeName?: string;
}

export function slice(serviceName: string, endpoints: EndpointSpec[], opts: { namespace?: string; name?: string; ports?: { name?: string; port: number; protocol?: string }[] } = {}): RawObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: opts.name ?? `${serviceName}-abc`, namespace: opts.namespace ?? 'shop', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: opts.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready === undefined ? {} : { ready: e.ready }),
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: opts.namespace ?? 'shop' } } : {}),
    })),
  };
}

interface PodSpec {
  namespace?: string;
  ip?: string;
  ips?: string[];
  serviceAccount?: string;
  nodeName?: string;
  labels?: Record<string, string>;
  phase?: string;
  ready?: boolean;
  deleting?: boolean;
  hostNetwork?: boolean;
  containerPorts?: { name?: string; containerPort: number; protocol?: string }[];
}

export function pod(name: string, spec: PodSpec = {}): RawObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name, namespace: spec.namespace ?? 'shop', labels: spec.labels ?? {},
      ...(spec.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      ...(spec.serviceAccount ? { serviceAccountName: spec.serviceAccount } : {}),
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'main', image: 'x', ports: spec.containerPorts ?? [] }],
    },
    status: {
      phase: spec.phase ?? 'Running',
      ...(spec.ip ? { podIP: spec.ip } : {}),
      ...(spec.ips ? { podIPs: spec.ips.map((ip) => ({ ip })) } : {}),
      conditions: [{ type: 'Ready', status: spec.ready === false ? 'False' : 'True' }],
    },
  };
}

export function trafficSplit(name: string, root: string, backends: { service: string; weight: number | string }[], opts: { namespace?: string; matches?: string[]; apiVersion?: string; creationTimestamp?: string } = {}): RawObject {
  return {
    apiVersion: opts.apiVersion ?? 'split.smi-spec.io/v1alpha4',
    kind: 'TrafficSplit',
    metadata: { name, namespace: opts.namespace ?? 'shop', ...(opts.creationTimestamp ? { creationTimestamp: opts.creationTimestamp } : {}) },
    spec: {
      service: root,
      backends,
      ...(opts.matches ? { matches: opts.matches.map((n) => ({ kind: 'HTTPRouteGroup', apiGroup: 'specs.smi-spec.io', name: n })) } : {}),
    },
  };
}

export function routeGroup(name: string, matches: { name: string; pathRegex?: string; methods?: string[]; headers?: Record<string, string>[] }[], namespace = 'shop'): RawObject {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name, namespace }, spec: { matches } };
}

export function tcpRoute(name: string, ports: number[] = [], namespace = 'shop'): RawObject {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: { name, namespace }, spec: { matches: { ports } } };
}

export function udpRoute(name: string, ports: number[] = [], namespace = 'shop'): RawObject {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'UDPRoute', metadata: { name, namespace }, spec: { matches: { ports } } };
}

export function trafficTarget(name: string, destination: string, sources: string[], rules: { kind: string; name: string; matches?: string[] }[], namespace = 'shop'): RawObject {
  return {
    apiVersion: 'access.smi-spec.io/v1alpha3',
    kind: 'TrafficTarget',
    metadata: { name, namespace },
    spec: {
      destination: { kind: 'ServiceAccount', name: destination, namespace },
      rules,
      sources: sources.map((s) => {
        const [ns, sa] = s.includes('/') ? s.split('/') : [namespace, s];
        return { kind: 'ServiceAccount', name: sa, namespace: ns };
      }),
    },
  };
}

export function findService(config: MeshConfig, key: string): MeshService {
  const found = config.services.find((s) => s.key === key);
  if (!found) throw new Error(`no meshed service ${key} in ${config.services.map((s) => s.key).join(', ')}`);
  return found;
}

export function findPort(config: MeshConfig, key: string, port = 80): MeshPort {
  const found = findService(config, key).ports.find((p) => p.port === port);
  if (!found) throw new Error(`${key} has no port ${port}`);
  return found;
}

/** Problems about one object, as `message` strings. */
export function problemsOf(config: MeshConfig, kind: string, name: string): string[] {
  return config.problems.filter((p: Problem) => p.kind === kind && p.name === name).map((p) => p.message);
}
