/**
 * One raw Gateway API route (HTTPRoute, GRPCRoute of a version Plexus reads) → the internal
 * model. Never throws. Errors make the route invalid: it keeps its identity and parentRefs, so
 * its status can say why it was not accepted, but it attaches nowhere.
 */
import { type Problem, type SourceLocation, problem } from '../model/problem.js';
import type { RawObject } from '../model/snapshot.js';
import { FieldIssues, describe, isFields } from '../smi/fields.js';
import { readMeta } from '../smi/meta.js';
import { splitApiVersion } from '../smi/resources.js';
import type { GatewayRoute } from './model.js';
import { GATEWAY_RESOURCES } from './resources.js';
import { readRouteSpec } from './route.js';

export interface GatewayParseResult {
  readonly object: GatewayRoute | null;
  readonly problems: Problem[];
}

export function parseGatewayObject(raw: RawObject, source?: SourceLocation): GatewayParseResult {
  const issues = new FieldIssues();
  const kind = typeof raw['kind'] === 'string' ? raw['kind'] : '';
  const { namespace, name, creationTimestamp } = readMeta(issues, raw);
  const ref = { kind: kind || 'Object', namespace, name: name || '(unnamed)' };
  const parts = splitApiVersion(raw['apiVersion']);
  const resource = GATEWAY_RESOURCES.find((candidate) => candidate.kind === kind);
  // Gateways, ReferenceGrants, TCPRoutes, …: not read by a mesh (nothing to report).
  if (resource === undefined || parts === null) return { object: null, problems: [] };
  if (!resource.versions.includes(parts.version)) {
    issues.error('apiVersion', `unknown version ${describe(parts.version)} of ${resource.group} for ${kind} (read: ${resource.versions.join(', ')})`);
    return { object: null, problems: toProblems(issues, ref, source) };
  }
  const { parentRefs, rules } = readRouteSpec(issues, raw, resource.kind, namespace);
  const route: GatewayRoute = {
    kind: resource.kind, namespace, name, apiVersion: `${parts.group}/${parts.version}`, creationTimestamp,
    generation: readGeneration(raw), ...(source ? { source } : {}),
    parentRefs, rules: issues.errors.length === 0 && rules ? rules : [], invalid: [...issues.errors],
  };
  return { object: name === '' ? null : route, problems: toProblems(issues, ref, source) };
}

function readGeneration(raw: RawObject): number {
  const metadata = raw['metadata'];
  const generation = isFields(metadata) ? metadata['generation'] : undefined;
  return typeof generation === 'number' && Number.isInteger(generation) && generation > 0 ? generation : 0;
}

function toProblems(issues: FieldIssues, ref: { kind: string; namespace: string; name: string }, source: SourceLocation | undefined): Problem[] {
  return [
    ...issues.errors.map((message) => problem(ref, message, 'error', source)),
    ...issues.warnings.map((message) => problem(ref, message, 'warning', source)),
  ];
}
