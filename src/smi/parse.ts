/**
 * One raw SMI object of any served version → the internal model, or null with the problems
 * that made it invalid (as an API server would have rejected it). Never throws.
 *
 * Objects from files are read strictly by their apiVersion: it is what the user wrote. Objects
 * from the API server (no `source`) may carry the shape of another version: the CRDs serve every
 * version from one schema without conversion, so an object written as v1alpha1 comes back
 * labelled with whichever version the client asked for. Such an object, when it has problems
 * under its label, is read in the first other version's shape (nearest first) that has none.
 */
import { append } from '../model/append.js';
import type { RawObject } from '../model/snapshot.js';
import { type Problem, type SourceLocation, problem } from '../model/problem.js';
import type { SmiObject } from './model.js';
import { type Fields, FieldIssues, describe, isFields } from './fields.js';
import { type SmiObjectMeta, readMeta } from './meta.js';
import {
  type SmiKind, type SmiResource, SMI_RESOURCES, alphaNumber, isSmiApiVersion, otherVersionsNearestFirst, splitApiVersion,
} from './resources.js';
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
  const reading = source ? readAs(resource, parts.version, fields, meta) : readAsServed(resource, parts.version, fields, meta);
  append(issues.errors, reading.issues.errors);
  append(issues.warnings, reading.issues.warnings);
  return result(issues, ref, reading.object, source);
}

interface Reading {
  readonly issues: FieldIssues;
  readonly object: SmiObject | null;
}

function readAs(resource: SmiResource, version: string, fields: Fields, meta: SmiObjectMeta): Reading {
  const issues = new FieldIssues();
  const object = PARSERS[resource.kind](issues, fields, alphaNumber(version), meta) ?? null;
  return { issues, object };
}

/**
 * The reading under the served version, unless it has problems and another version's shape has
 * none. Warnings count too: a v1alpha2 TrafficTarget served as v1alpha3 reads without errors but
 * loses its `destination.port` (a warning), while its own shape keeps it.
 */
function readAsServed(resource: SmiResource, version: string, fields: Fields, meta: SmiObjectMeta): Reading {
  const served = readAs(resource, version, fields, meta);
  if (isClean(served)) return served;
  for (const other of otherVersionsNearestFirst(resource, version)) {
    const reading = readAs(resource, other, fields, meta);
    if (isClean(reading)) return reading;
  }
  return served;
}

function isClean(reading: Reading): boolean {
  return reading.issues.errors.length === 0 && reading.issues.warnings.length === 0;
}

/** Any error rejects the object, even one a kind reader could still build around. */
function result(issues: FieldIssues, ref: { kind: string; namespace: string; name: string }, object: SmiObject | null, source: SourceLocation | undefined): SmiParseResult {
  const problems = [
    ...issues.errors.map((message) => problem(ref, message, 'error', source)),
    ...issues.warnings.map((message) => problem(ref, message, 'warning', source)),
  ];
  return { object: issues.errors.length === 0 ? object : null, problems };
}
