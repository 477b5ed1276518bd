/**
 * Authorization of one listener (ACL mode): the caller's source IP → pod identity, then the
 * port's AccessRules (compiled by `access-rules.ts`). Allowed when some rule lists the identity and, for HTTP, one of its
 * matches accepts the request (null `http` = the whole port). TCP/UDP connections (no request)
 * are granted only by rules with null `http`. Fail closed: an unknown source is denied.
 */
import type { MeshPort, MeshService } from '../../routing/mesh-config.js';
import { compileAccessRules } from './access-rules.js';
import type { IdentityTable } from './identities.js';
import { identityKey } from './identities.js';
import { normalizeIp } from './ip.js';
import type { AuthzResult, HttpRequestInfo } from './types.js';

export type Authorizer = (sourceIp: string, request: HttpRequestInfo | null) => AuthzResult;

export interface AuthorizerSettings {
  readonly acl: boolean;
  readonly nodeName: string;
  readonly identities: IdentityTable;
}

export function compileAuthorizer(service: MeshService, port: MeshPort, settings: AuthorizerSettings): Authorizer {
  const check = compileAccessRules(port.access, `${service.key} port ${port.port}/${port.protocol}`);
  return (sourceIp, request) => {
    const identity = settings.identities.lookup(sourceIp);
    if (!settings.acl) return { allowed: true, identity, reason: 'ACL mode off' };
    if (identity === null) {
      return { allowed: false, identity, reason: `unknown source ${normalizeIp(sourceIp)}: not a pod of node ${settings.nodeName}` };
    }
    const verdict = check(identityKey(identity), request);
    return { allowed: verdict.allowed, identity, reason: verdict.reason };
  };
}
