/**
 * One raw SMI object of any served version → the internal model, or null with the problems
 * that made it invalid (as an API server would have rejected it). Never throws.
 */
import type { RawObject } from '../routing/snapshot.js';
import { type Problem, type SourceLocation, problem } from '../routing/problem.js';
import type { SmiObject } from './model.js';
import { type Fields, FieldIssues, describe, isFields } from './fields.js';
import { type SmiObjectMeta, readMeta } from './meta.js';
import { type SmiKind, SMI_RESOURCES, alphaNumber, isSmiApiVersion, splitApiVersion } from './resources.js';
import { parseTrafficSplit } from './split.js';
import { parseTrafficTarget } from './access.js';
import { parseHTTPRouteGroup, parseTCPRoute, parseUDPRoute } from './specs.js';

export { isSmiApiVersion };

export interface SmiParseResult {
  readonly object: SmiObject | null;
  readonly problems: Problem[];
}

type KindParser = (issues: FieldIssues, raw: Fields, alpha: number, meta: SmiObjectMeta) => SmiObject | undefined;

const PARSERS: Readonly<Record<SmiKind, KindParser>> = {
  TrafficSplit: parseTrafficSplit,
  TrafficTarget: parseTrafficTarget,
  HTTPRouteGroup: parseHTTPRouteGroup,
  TCPRoute: parseTCPRoute,
  UDPRoute: parseUDPRoute,
};

export function parseSmiObject(raw: RawObject, source?: SourceLocation): SmiParseResult {
  const issues = new FieldIssues();
  const fields: unknown = raw;
  if (!isFields(fields)) {
    issues.error('object', `must be a mapping, got ${describe(fields)}`);
    return result(issues, { kind: '', namespace: 'default', name: '' }, null, source);
  }
  const kind = typeof fields['kind'] === 'string' ? fields['kind'] : '';
  const { namespace, name, creationTimestamp } = readMeta(issues, fields);
  const ref = { kind, namespace, name };
  const apiVersion = fields['apiVersion'];
  const parts = splitApiVersion(apiVersion);
  if (typeof apiVersion !== 'string' || parts === null || !isSmiApiVersion(apiVersion)) {
    issues.error('apiVersion', `must be a version of an SMI group, got ${describe(apiVersion)}`);
    return result(issues, ref, null, source);
  }
  const resource = SMI_RESOURCES.find((candidate) => candidate.group === parts.group && candidate.kind === kind);
  if (resource === undefined) {
    const kinds = SMI_RESOURCES.filter((candidate) => candidate.group === parts.group).map((candidate) => candidate.kind);
    issues.error('kind', `must be one of ${kinds.join(', ')} in ${parts.group}, got ${describe(fields['kind'])}`);
    return result(issues, ref, null, source);
  }
  if (!resource.versions.includes(parts.version)) {
    issues.error('apiVersion', `unknown version ${describe(parts.version)} of ${resource.group} for ${resource.kind} (served: ${resource.versions.join(', ')})`);
    return result(issues, ref, null, source);
  }
  const meta: SmiObjectMeta = source
    ? { namespace, name, apiVersion, creationTimestamp, source }
    : { namespace, name, apiVersion, creationTimestamp };
  const object = PARSERS[resource.kind](issues, fields, alphaNumber(parts.version), meta) ?? null;
  return result(issues, ref, object, source);
}

/** Any error rejects the object, even one a kind reader could still build around. */
function result(issues: FieldIssues, ref: { kind: string; namespace: string; name: string }, object: SmiObject | null, source: SourceLocation | undefined): SmiParseResult {
  const problems = [
    ...issues.errors.map((message) => problem(ref, message, 'error', source)),
    ...issues.warnings.map((message) => problem(ref, message, 'warning', source)),
  ];
  return { object: issues.errors.length === 0 ? object : null, problems };
}
