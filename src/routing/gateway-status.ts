/**
 * The status Plexus gives each Gateway API route, per Service parentRef: `Accepted` (attached
 * to at least one port of a meshed Service) and `ResolvedRefs` (every backendRef and mirror is a
 * Service port Plexus can send to). Parents that are not Services (Gateways) are left to their
 * own controllers.
 */
import type { Attachments, ParentOutcome } from './gateway-attach.js';
import { resolveBackend, type GatewayContext } from './gateway-rules.js';
import type { RouteCondition, RouteParentStatus, RouteStatus } from './mesh-config.js';
import type { GatewayRoute, ObjectReference } from '../gateway/model.js';

export function routeStatuses(attachments: Attachments, context: GatewayContext): RouteStatus[] {
  const byRoute = new Map<GatewayRoute, RouteParentStatus[]>();
  for (const route of context.catalog.gatewayRoutes.values()) byRoute.set(route, []);
  for (const outcome of attachments.outcomes) byRoute.get(outcome.route)?.push(parentStatus(outcome, context));
  const statuses: RouteStatus[] = [];
  for (const [route, parents] of byRoute) {
    statuses.push({ kind: route.kind, namespace: route.namespace, name: route.name, generation: route.generation, parents });
  }
  return statuses.sort((a, b) => compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name));
}

function parentStatus(outcome: ParentOutcome, context: GatewayContext): RouteParentStatus {
  const ref = outcome.route.parentRefs[outcome.parentIndex];
  const accepted: RouteCondition = outcome.ports.length > 0
    ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: `attached to port ${outcome.ports.join(', ')}${outcome.message ? `; ${outcome.message}` : ''}` }
    : { type: 'Accepted', status: 'False', reason: outcome.reason, message: outcome.message };
  return {
    parentRef: {
      group: ref?.group ?? '', kind: ref?.kind ?? 'Service', namespace: outcome.parentNamespace, name: ref?.name ?? '',
      ...(ref?.port === null || ref === undefined ? {} : { port: ref.port }),
      ...(ref?.sectionName === null || ref === undefined ? {} : { sectionName: ref.sectionName }),
    },
    conditions: [accepted, resolvedRefs(outcome, context)],
  };
}

function resolvedRefs(outcome: ParentOutcome, context: GatewayContext): RouteCondition {
  const refs: ObjectReference[] = [];
  for (const rule of outcome.route.rules) {
    for (const ref of [rule.backendRefs, rule.filters.mirrors].flat()) refs.push(ref);
    for (const backend of rule.backendRefs) for (const mirror of backend.filters.mirrors) refs.push(mirror);
  }
  const failures: { reason: string; message: string }[] = [];
  for (const ref of refs) {
    const resolved = resolveBackend(ref, outcome.route, outcome.parentNamespace, context);
    if ('reason' in resolved && !failures.some((f) => f.message === resolved.message)) failures.push(resolved);
  }
  const [first] = failures;
  if (first === undefined) return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backendRef resolved' };
  return { type: 'ResolvedRefs', status: 'False', reason: first.reason, message: `${failures.map((f) => f.message).join('; ')} (answered 500)` };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
