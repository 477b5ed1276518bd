/**
 * What the compiler needs around Gateway API routes besides rules and status: the inputs a
 * Service's assembly reads (so its memo knows when to reassemble), and the problems a user sees
 * in `plexus config` for routes Plexus could not apply as written.
 */
import type { AssemblyContext } from './assemble.js';
import type { Attachments } from './gateway-attach.js';
import type { RouteStatus } from './mesh-config.js';
import { problem, type Problem } from '../model/problem.js';
import { objectKey } from './raw.js';
import type { ObjectReference } from '../gateway/model.js';

/** The routes attached to a Service's ports and the Services (and endpoints) they send to; null without routes. */
export function gatewayAssemblyInputs(serviceKey: string, context: AssemblyContext): unknown[] | null {
  const ports = context.gateway.byService.get(serviceKey);
  if (ports === undefined) return null;
  const inputs: unknown[] = [];
  const addService = (ref: ObjectReference): void => {
    const service = context.catalog.services.get(objectKey(ref.namespace, ref.name));
    inputs.push(service, service && context.endpointsOf(service));
  };
  for (const [port, attached] of ports) {
    inputs.push(port);
    for (const { route, consumer } of attached) {
      inputs.push(route, consumer);
      for (const rule of route.rules) {
        rule.backendRefs.forEach(addService);
        rule.filters.mirrors.forEach(addService);
      }
    }
  }
  return inputs;
}

/** A problem for each parent a route is not accepted by, and each reference it cannot resolve. */
export function gatewayProblems(attachments: Attachments, statuses: readonly RouteStatus[]): Problem[] {
  const problems: Problem[] = [];
  const sources = new Map(attachments.outcomes.map((o) => [`${o.route.kind} ${o.route.namespace}/${o.route.name}`, o.route.source]));
  for (const status of statuses) {
    const source = sources.get(`${status.kind} ${status.namespace}/${status.name}`);
    const ref = { kind: status.kind, namespace: status.namespace, name: status.name };
    for (const parent of status.parents) {
      const target = `parent Service ${parent.parentRef.namespace}/${parent.parentRef.name}${parent.parentRef.port === undefined ? '' : `:${parent.parentRef.port}`}`;
      for (const condition of parent.conditions) {
        if (condition.status === 'False' && !(condition.type === 'Accepted' && condition.reason === 'UnsupportedValue' && condition.message.startsWith('the route is invalid'))) {
          problems.push(problem(ref, `${target}: ${condition.type} False (${condition.reason}): ${condition.message}`, 'error', source));
        }
      }
    }
  }
  return problems;
}
