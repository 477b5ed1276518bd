/**
 * The one access-rule compiler: a port's AccessRules (from TrafficTargets) → a check of one
 * caller identity (`ns/sa`) and, for HTTP, one request. Used by the node agent's listeners
 * (`authorization.ts`: the caller known by its source IP) and by secure mode's destination side
 * (`secure/destination.ts`: the caller known by its verified certificate).
 *
 * A rule grants when it lists the caller and either has no HTTP matches (the whole port) or one
 * of them accepts the request; a connection without a request (TCP, h2c streams, UDP) is granted
 * only by a rule without HTTP matches.
 */
import type { AccessRule } from '../../routing/mesh-config.js';
import { compileHttpMatches, type RequestPredicate } from './matchers.js';
import type { HttpRequestInfo } from './types.js';

export interface AccessVerdict {
  readonly allowed: boolean;
  /** The TrafficTarget that allowed it, or why it was denied. */
  readonly reason: string;
}

interface CompiledRule {
  readonly sources: ReadonlySet<string>;
  /** Null = every request and connection on the port. */
  readonly matches: RequestPredicate | null;
  /** The verdict when this rule grants: made once, not per request. */
  readonly grant: AccessVerdict;
}

/** Checks a caller (`ns/sa`) and its request (null: a connection) against a port's rules. */
export type AccessCheck = (caller: string, request: HttpRequestInfo | null) => AccessVerdict;

/** Compiles `rules`; `target` names the port in the reasons of a denial. */
export function compileAccessRules(rules: readonly AccessRule[], target: string): AccessCheck {
  const compiled = rules.map(compileRule);
  return (caller, request) => {
    let listed = false;
    for (const rule of compiled) {
      if (!rule.sources.has(caller)) continue;
      listed = true;
      if (rule.matches === null || (request !== null && rule.matches(request))) return rule.grant;
    }
    if (!listed) return { allowed: false, reason: `no TrafficTarget grants ${caller} access to ${target}` };
    const what = request === null ? 'connections' : `${request.method} ${request.path}`;
    return { allowed: false, reason: `no TrafficTarget grants ${caller} ${what} on ${target}` };
  };
}

function compileRule(rule: AccessRule): CompiledRule {
  return {
    sources: new Set(rule.sources),
    matches: rule.http === null ? null : compileHttpMatches(rule.http),
    grant: { allowed: true, reason: `allowed by TrafficTarget ${rule.trafficTarget}` },
  };
}
