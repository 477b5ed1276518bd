/**
 * Authorization of one listener (ACL mode): the caller's source IP → pod identity, then the
 * port's AccessRules. Allowed when some rule lists the identity and, for HTTP, one of its
 * matches accepts the request (null `http` = the whole port). TCP/UDP connections (no request)
 * are granted only by rules with null `http`. Fail closed: an unknown source is denied.
 */
import type { AccessRule, MeshPort, MeshService } from '../../routing/mesh-config.js';
import type { IdentityTable } from './identities.js';
import { identityKey } from './identities.js';
import { normalizeIp } from './ip.js';
import { compileHttpMatches, type RequestPredicate } from './matchers.js';
import type { AuthzResult, HttpRequestInfo } from './types.js';

interface CompiledRule {
  readonly trafficTarget: string;
  readonly sources: ReadonlySet<string>;
  /** Null = every request and connection on the port. */
  readonly matches: RequestPredicate | null;
}

export type Authorizer = (sourceIp: string, request: HttpRequestInfo | null) => AuthzResult;

export interface AuthorizerSettings {
  readonly acl: boolean;
  readonly nodeName: string;
  readonly identities: IdentityTable;
}

export function compileAuthorizer(service: MeshService, port: MeshPort, settings: AuthorizerSettings): Authorizer {
  const rules = port.access.map(compileRule);
  const target = `${service.key} port ${port.port}/${port.protocol}`;
  return (sourceIp, request) => {
    const identity = settings.identities.lookup(sourceIp);
    if (!settings.acl) return { allowed: true, identity, reason: 'ACL mode off' };
    if (identity === null) {
      return { allowed: false, identity, reason: `unknown source ${normalizeIp(sourceIp)}: not a pod of node ${settings.nodeName}` };
    }
    const caller = identityKey(identity);
    let listed = false;
    for (const rule of rules) {
      if (!rule.sources.has(caller)) continue;
      listed = true;
      if (rule.matches === null || (request !== null && rule.matches(request))) {
        return { allowed: true, identity, reason: `allowed by TrafficTarget ${rule.trafficTarget}` };
      }
    }
    if (!listed) return { allowed: false, identity, reason: `no TrafficTarget grants ${caller} access to ${target}` };
    const what = request === null ? 'connections' : `${request.method} ${request.path}`;
    return { allowed: false, identity, reason: `no TrafficTarget grants ${caller} ${what} on ${target}` };
  };
}

function compileRule(rule: AccessRule): CompiledRule {
  return {
    trafficTarget: rule.trafficTarget,
    sources: new Set(rule.sources),
    matches: rule.http === null ? null : compileHttpMatches(rule.http),
  };
}
