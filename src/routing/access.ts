/**
 * Access rules from TrafficTargets. A TrafficTarget applies to a Service port when its
 * destination ServiceAccount runs behind that port (any endpoint of the root or of a split
 * backend). Its rules then say what it grants there: HTTPRouteGroup matches on http ports,
 * every connection on TCP ports (TCPRoute) or UDP ports (UDPRoute) whose port is listed,
 * every request when it has no rules (v1alpha1/2).
 */
import { append } from '../model/append.js';
import type { Catalog } from './catalog.js';
import type { AccessRule } from './mesh-config.js';
import type { HttpMatch } from '../model/http-match.js';
import type { MeshedPort } from './mesh-ports.js';
import { problem, type Problem } from '../model/problem.js';
import { objectKey } from './raw.js';
import type { TrafficTarget } from '../smi/model.js';

type Grant =
  | { readonly kind: 'http'; readonly matches: readonly HttpMatch[] }
  | { readonly kind: 'tcp' | 'udp'; readonly ports: readonly number[] };

/** A TrafficTarget with its routes looked up. */
export interface ResolvedTarget {
  readonly key: string;
  readonly target: TrafficTarget;
  readonly sources: readonly string[];
  /** Null = grants everything (a TrafficTarget without rules). */
  readonly grants: readonly Grant[] | null;
}

/** Every TrafficTarget with its routes resolved, by destination identity (`namespace/sa`). */
export function resolveTargets(catalog: Catalog, problems: Problem[]): Map<string, ResolvedTarget[]> {
  const byDestination = new Map<string, ResolvedTarget[]>();
  for (const [key, target] of catalog.trafficTargets) {
    const resolved: ResolvedTarget = {
      key,
      target,
      sources: [...new Set(target.sources.map((s) => objectKey(s.namespace, s.name)))].sort(),
      grants: target.rules.length === 0 ? null : resolveGrants(target, catalog, problems),
    };
    const destination = objectKey(target.destination.namespace, target.destination.name);
    const list = byDestination.get(destination);
    if (list) list.push(resolved);
    else byDestination.set(destination, [resolved]);
  }
  return byDestination;
}

function resolveGrants(target: TrafficTarget, catalog: Catalog, problems: Problem[]): Grant[] {
  const report = (message: string): void => {
    problems.push(problem({ kind: 'TrafficTarget', namespace: target.namespace, name: target.name }, message, 'error', target.source));
  };
  const grants: Grant[] = [];
  for (const rule of target.rules) {
    const key = objectKey(target.namespace, rule.name);
    if (rule.kind === 'HTTPRouteGroup') {
      const group = catalog.routeGroups.get(key);
      if (!group) {
        report(`HTTPRouteGroup ${key} is missing or invalid (rule skipped)`);
        continue;
      }
      const unknown = rule.matches.filter((name) => !group.matches.some((m) => m.name === name));
      if (unknown.length > 0) {
        report(`HTTPRouteGroup ${key} has no match named ${unknown.join(', ')} (rule skipped)`);
        continue;
      }
      const matches = rule.matches.length === 0 ? group.matches : group.matches.filter((m) => rule.matches.includes(m.name));
      grants.push({ kind: 'http', matches });
    } else {
      const route = (rule.kind === 'TCPRoute' ? catalog.tcpRoutes : catalog.udpRoutes).get(key);
      if (!route) {
        report(`${rule.kind} ${key} is missing or invalid (rule skipped)`);
        continue;
      }
      grants.push({ kind: rule.kind === 'TCPRoute' ? 'tcp' : 'udp', ports: route.ports });
    }
  }
  return grants;
}

/** Does a port filter name this Service port, by its own number or a target port? */
function portListed(port: MeshedPort, targetPorts: ReadonlySet<number>, listed: number): boolean {
  return port.port === listed || targetPorts.has(listed);
}

/**
 * What `target` grants on `port`: null http = everything, a list = those requests,
 * undefined = nothing.
 */
function grantOn(target: ResolvedTarget, port: MeshedPort, targetPorts: ReadonlySet<number>): readonly HttpMatch[] | null | undefined {
  const destinationPort = target.target.destinationPort;
  if (destinationPort !== null && !portListed(port, targetPorts, destinationPort)) return undefined;
  if (target.grants === null) return null;
  const matches: HttpMatch[] = [];
  let granted = false;
  for (const grant of target.grants) {
    if (grant.kind === 'http') {
      if (port.trafficType !== 'http') continue;
      append(matches, grant.matches);
      granted = true;
      continue;
    }
    const fits = grant.kind === 'udp' ? port.protocol === 'UDP' : port.protocol === 'TCP';
    if (fits && (grant.ports.length === 0 || grant.ports.some((p) => portListed(port, targetPorts, p)))) return null;
  }
  return granted && matches.length > 0 ? matches : undefined;
}

/** The access rules of one port, given the identities behind it; sorted by TrafficTarget. */
export function accessRules(
  port: MeshedPort, identities: ReadonlySet<string>, targetPorts: ReadonlySet<number>,
  targetsByDestination: ReadonlyMap<string, readonly ResolvedTarget[]>,
): AccessRule[] {
  const rules: AccessRule[] = [];
  const seen = new Set<string>();
  for (const identity of identities) {
    for (const target of targetsByDestination.get(identity) ?? []) {
      if (seen.has(target.key)) continue;
      seen.add(target.key);
      const http = grantOn(target, port, targetPorts);
      if (http !== undefined) rules.push({ trafficTarget: target.key, sources: target.sources, http });
    }
  }
  return rules.sort((a, b) => (a.trafficTarget < b.trafficTarget ? -1 : a.trafficTarget > b.trafficTarget ? 1 : 0));
}
