/** Small builders for MeshConfig pieces and requests used by the runtime tests. */
import type { AccessRule, Backend, Destination, Endpoint, HttpRule, MeshConfig, MeshPort, MeshService, Policy, SourceIdentity, TrafficType } from '../../../src/routing/mesh-config.js';
import type { HttpMatch } from '../../../src/model/http-match.js';
import type { HttpRequestInfo } from '../../../src/node-agent/runtime/types.js';

export function endpoint(ip: string, port = 8080, conditions: Partial<Pick<Endpoint, 'ready' | 'serving' | 'terminating'>> = {}): Endpoint {
  return {
    ip, port, ready: true, serving: true, terminating: false, nodeName: 'node-a', pod: null, serviceAccount: null, ...conditions,
  };
}

export function backend(service: string, weight: number, endpoints: readonly Endpoint[]): Backend {
  return { service, weight, endpoints };
}

export function backends(list: readonly Backend[], split: string | null = null): Destination {
  return { kind: 'backends', split, backends: list };
}

export const DEFAULT_POLICY: Policy = {
  retryAttempts: 0, timeoutMs: 0, loadBalancer: 'round-robin', circuitBreaker: null, rateLimit: null,
};

export interface PortSpec {
  readonly port?: number;
  readonly trafficType?: TrafficType;
  readonly destination: Destination;
  readonly rules?: readonly HttpRule[];
  readonly access?: readonly AccessRule[];
}

export function meshPort(spec: PortSpec): MeshPort {
  const trafficType = spec.trafficType ?? 'http';
  return {
    name: '',
    port: spec.port ?? 80,
    protocol: trafficType === 'udp' ? 'UDP' : 'TCP',
    trafficType,
    scheme: 'http',
    listenerPort: 5000,
    rules: spec.rules ?? [],
    destination: spec.destination,
    access: spec.access ?? [],
  };
}

export function meshService(key: string, ports: readonly MeshPort[], policy: Partial<Policy> = {}): MeshService {
  const [namespace, name] = key.split('/') as [string, string];
  return { key, namespace, name, clusterIP: null, vip: null, ports, policy: { ...DEFAULT_POLICY, ...policy } };
}

export function meshConfig(services: readonly MeshService[], identities: readonly SourceIdentity[] = []): MeshConfig {
  return {
    nodeName: 'node-a', meshDomain: 'plexus', services, identities, allocation: { ports: {}, vips: {} }, problems: [],
  };
}

export function match(spec: Partial<HttpMatch>): HttpMatch {
  return { name: 'm', pathRegex: null, methods: [], headers: [], ...spec };
}

export function request(method: string, target: string, headers: Record<string, string> = {}): HttpRequestInfo {
  const lower = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const at = target.indexOf('?');
  return { method, path: at === -1 ? target : target.slice(0, at), query: at === -1 ? '' : target.slice(at + 1), header: (name) => lower.get(name) };
}

/** A clock the test moves by hand. */
export class ManualClock {
  now = 1_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

