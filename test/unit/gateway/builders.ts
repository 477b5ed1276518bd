/** Gateway API route objects for the unit tests, in the shapes of the upstream mesh conformance manifests. */
import type { RawObject } from '../../../src/model/snapshot.js';

export interface RouteSpec {
  readonly namespace?: string;
  readonly parentRefs?: readonly Record<string, unknown>[];
  readonly rules?: readonly Record<string, unknown>[];
  readonly creationTimestamp?: string;
  readonly generation?: number;
  readonly kind?: 'HTTPRoute' | 'GRPCRoute';
  readonly apiVersion?: string;
}

/** A route whose parent is Service `parent` (in the route's namespace unless the parentRef says). */
export function route(name: string, spec: RouteSpec = {}): RawObject {
  return {
    apiVersion: spec.apiVersion ?? 'gateway.networking.k8s.io/v1',
    kind: spec.kind ?? 'HTTPRoute',
    metadata: {
      name, namespace: spec.namespace ?? 'shop',
      ...(spec.creationTimestamp ? { creationTimestamp: spec.creationTimestamp } : {}),
      ...(spec.generation ? { generation: spec.generation } : {}),
    },
    spec: {
      parentRefs: spec.parentRefs ?? [{ group: '', kind: 'Service', name: 'web', port: 80 }],
      ...(spec.rules ? { rules: spec.rules } : {}),
    },
  };
}

export function serviceParent(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { group: '', kind: 'Service', name, ...extra };
}

export function backendRef(name: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, port, ...extra };
}

export function prefix(value: string): Record<string, unknown> {
  return { path: { type: 'PathPrefix', value } };
}

export function exact(value: string): Record<string, unknown> {
  return { path: { type: 'Exact', value } };
}
