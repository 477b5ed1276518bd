/**
 * Test helper: what the real authorizer would decide for each request an agent (or the issuer)
 * made to the fake API server, against manifests/30-rbac.yaml, and whether `plexus check` asks
 * about it (AGENT_API_CALLS, ISSUER_API_CALLS). The fake server does not model RBAC, so this is
 * where a call added without a grant shows up.
 */
import type { RequestLogEntry } from '../../fake-apiserver/server.js';
import { namespaceOf, SERVICE_ACCOUNT_CALLS } from '../../../src/cli/commands/check-agent-rbac.js';
import { loadManifests } from '../../unit/manifests-install/load-manifests.js';
import { allows, type Request } from '../../unit/manifests-install/rbac.js';


/** The RBAC attributes of a resource request, like the API server's RequestInfo; null for discovery. */
export function requestAttributes(method: string, path: string, query: Readonly<Record<string, string>>): Request | null {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts.length >= 2) [group, rest] = ['', parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3) [group, rest] = [parts[1]!, parts.slice(3)];
  else return null;
  if (rest.length === 0) return null;
  let watch = query['watch'] === 'true' || query['watch'] === '1';
  if (rest[0] === 'watch') [watch, rest] = [true, rest.slice(1)];
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
  const [resource, name, subresource] = rest as [string, string | undefined, string | undefined];
  const verb = method === 'GET' ? (name !== undefined ? 'get' : watch ? 'watch' : 'list')
    : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch'
      : name !== undefined ? 'delete' : 'deletecollection';
  return {
    group,
    resource: subresource ? `${resource}/${subresource}` : resource,
    verb,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined && verb !== 'create' ? { name } : {}),
  };
}

const describe = (r: Request): string => `${r.verb} ${r.group || 'core'}/${r.resource}${r.name ? `/${r.name}` : ''}${r.namespace ? ` in ${r.namespace}` : ''}`;

function listedInCheck(r: Request, serviceAccount: string): boolean {
  const calls = SERVICE_ACCOUNT_CALLS.find((s) => s.serviceAccount === serviceAccount)?.calls ?? [];
  return calls.some((call) => {
    const namespace = namespaceOf(call, 'plexus');
    return call.group === r.group && call.resource === r.resource && call.verbs.includes(r.verb)
      && (call.scope === 'cluster' || r.namespace === namespace)
      && (call.resourceName === undefined || call.resourceName === r.name);
  });
}

export interface RbacAudit {
  /** Every distinct call the agents made. */
  readonly calls: readonly string[];
  /** Calls manifests/30-rbac.yaml does not grant the agent's ServiceAccount. */
  readonly denied: readonly string[];
  /** Calls `plexus check` does not ask the API server about. */
  readonly unchecked: readonly string[];
}

/** Audits the requests sent with a bearer token for which `isAgent` is true, as ServiceAccount `serviceAccount` of the namespace plexus. */
export function auditAgentRequests(requests: readonly RequestLogEntry[], isAgent: (authorization: string) => boolean, serviceAccount = 'plexus-agent'): RbacAudit {
  const manifests = loadManifests();
  const calls = new Map<string, Request>();
  for (const entry of requests) {
    if (!entry.authorization || !isAgent(entry.authorization)) continue;
    const attributes = requestAttributes(entry.method, entry.path, entry.query);
    if (attributes) calls.set(describe(attributes), attributes);
  }
  const sorted = [...calls.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    calls: sorted.map(([d]) => d),
    denied: sorted.filter(([, r]) => !allows(manifests, { namespace: 'plexus', name: serviceAccount }, r)).map(([d]) => d),
    unchecked: sorted.filter(([, r]) => !listedInCheck(r, serviceAccount)).map(([d]) => d),
  };
}
