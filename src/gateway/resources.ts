/**
 * The Gateway API kinds Plexus serves for the mesh (GAMMA): group, versions (oldest first),
 * names. The single source for version checks, API discovery and RBAC.
 */

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export type GatewayKind = 'HTTPRoute' | 'GRPCRoute';

export interface GatewayResource {
  readonly group: typeof GATEWAY_GROUP;
  readonly kind: GatewayKind;
  readonly plural: string;
  /** Versions Plexus reads, oldest first; they share one schema (the CRDs convert nothing). */
  readonly versions: readonly string[];
}

export const GATEWAY_RESOURCES: readonly GatewayResource[] = [
  { group: GATEWAY_GROUP, kind: 'HTTPRoute', plural: 'httproutes', versions: ['v1beta1', 'v1'] },
  { group: GATEWAY_GROUP, kind: 'GRPCRoute', plural: 'grpcroutes', versions: ['v1alpha2', 'v1'] },
];

/** The controller name Plexus writes in `status.parents[].controllerName`. */
export const CONTROLLER_NAME = 'plexus.dev/mesh';

export function isGatewayApiVersion(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && apiVersion.startsWith(`${GATEWAY_GROUP}/`);
}
