/**
 * Every Kubernetes API call the agent and the certificate issuer make, with the scope they make
 * it in. `plexus check` asks the API server whether each one's ServiceAccount may make them, and
 * test/unit/manifests-install checks that manifests/30-rbac.yaml grants them (and nothing more).
 * Add a line here with every new call in src/kube/, src/cluster/, src/providers/, src/dns/, src/secure/cluster/ or src/issuer/ (the CLI
 * commands use the user's credentials). API discovery (`/apis/...` group and version documents)
 * needs no grant.
 */
export type Scope =
  /** any namespace, or cluster-scoped resources */
  | 'cluster'
  /** the mesh namespace only */
  | 'mesh'
  | 'kube-system';

export interface ApiCall {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
  readonly scope: Scope;
  /** Set when the call names one object (RBAC may limit it with resourceNames). */
  readonly resourceName?: string;
  /** Who makes it, for the reader. */
  readonly by: string;
}

const WATCH = ['get', 'list', 'watch'];

export const AGENT_API_CALLS: readonly ApiCall[] = [
  { group: '', resource: 'services', verbs: WATCH, scope: 'cluster', by: 'kube provider: meshed Services' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verbs: WATCH, scope: 'cluster', by: 'kube provider: endpoints' },
  { group: '', resource: 'namespaces', verbs: WATCH, scope: 'cluster', by: 'kube provider: namespace opt-in annotation' },
  { group: '', resource: 'pods', verbs: WATCH, scope: 'cluster', by: 'kube provider: pods of its node (field selector)' },
  { group: 'split.smi-spec.io', resource: 'trafficsplits', verbs: WATCH, scope: 'cluster', by: 'kube provider: SMI' },
  { group: 'access.smi-spec.io', resource: 'traffictargets', verbs: WATCH, scope: 'cluster', by: 'kube provider: SMI' },
  { group: 'specs.smi-spec.io', resource: 'httproutegroups', verbs: WATCH, scope: 'cluster', by: 'kube provider: SMI' },
  { group: 'specs.smi-spec.io', resource: 'tcproutes', verbs: WATCH, scope: 'cluster', by: 'kube provider: SMI' },
  { group: 'specs.smi-spec.io', resource: 'udproutes', verbs: WATCH, scope: 'cluster', by: 'kube provider: SMI' },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', verbs: WATCH, scope: 'cluster', by: 'kube provider: Gateway API routes' },
  { group: 'gateway.networking.k8s.io', resource: 'grpcroutes', verbs: WATCH, scope: 'cluster', by: 'kube provider: Gateway API routes' },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes/status', verbs: ['patch'], scope: 'cluster', by: 'leader: route status.parents (src/cluster/route-status.ts)' },
  { group: 'gateway.networking.k8s.io', resource: 'grpcroutes/status', verbs: ['patch'], scope: 'cluster', by: 'leader: route status.parents (src/cluster/route-status.ts)' },
  { group: '', resource: 'events', verbs: ['create', 'get', 'list', 'patch'], scope: 'cluster', by: 'leader: problems as Events, count bumped when repeated, listed once by a new leader (src/cluster/events.ts)' },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verbs: ['get', 'list', 'create', 'update', 'delete'], scope: 'cluster', by: 'secure mode, leader: NetworkPolicies guarding meshed pods (src/cluster/network-policy-writer.ts)' },
  { group: '', resource: 'services', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'], scope: 'mesh', by: 'leader: shadow Services (src/cluster/shadow.ts: create, replace by PUT, delete)' },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'], scope: 'mesh', by: 'leader election (src/kube/leader.ts: read, create, renew by PUT)' },
  { group: '', resource: 'configmaps', verbs: ['get'], scope: 'mesh', resourceName: 'plexus-ca-bundle', by: 'secure mode: the trusted mesh roots (src/secure/cluster/cluster-credentials.ts)' },
  { group: 'apps', resource: 'deployments', verbs: ['list'], scope: 'kube-system', by: 'CoreDNS patch: find CoreDNS by label (src/dns/coredns-api.ts)' },
  { group: 'apps', resource: 'deployments', verbs: ['get', 'patch'], scope: 'kube-system', resourceName: 'coredns', by: 'CoreDNS patch: roll by pod-template annotation' },
  { group: '', resource: 'configmaps', verbs: ['get', 'update'], scope: 'kube-system', resourceName: 'coredns', by: 'CoreDNS patch: the Corefile and its saved original' },
  { group: '', resource: 'configmaps', verbs: ['get', 'update'], scope: 'kube-system', resourceName: 'coredns-custom', by: 'CoreDNS patch: AKS coredns-custom' },
  { group: '', resource: 'configmaps', verbs: ['get', 'update'], scope: 'kube-system', resourceName: 'plexus-own-names', by: 'own names: the hosts file of plexus.dev/own-names Services (src/dns/coredns-own-names.ts)' },
];

/** The certificate issuer (manifests/45-issuer.yaml, ServiceAccount plexus-issuer). */
export const ISSUER_API_CALLS: readonly ApiCall[] = [
  { group: '', resource: 'secrets', verbs: ['get'], scope: 'mesh', resourceName: 'plexus-ca', by: 'issuer: the mesh CA (src/issuer/issuer-ca.ts)' },
  { group: 'authentication.k8s.io', resource: 'tokenreviews', verbs: ['create'], scope: 'cluster', by: 'issuer: authenticate agents asking for certificates (src/issuer/kube-lookups.ts)' },
  { group: '', resource: 'pods', verbs: ['get'], scope: 'mesh', by: 'issuer: the agent pod a token is bound to' },
  { group: '', resource: 'pods', verbs: ['list'], scope: 'cluster', by: 'issuer: the pods of the requesting agent\'s node (field selector)' },
];

/** Who makes which calls, as ServiceAccounts of the mesh namespace. */
export const SERVICE_ACCOUNT_CALLS: readonly { readonly serviceAccount: string; readonly calls: readonly ApiCall[] }[] = [
  { serviceAccount: 'plexus-agent', calls: AGENT_API_CALLS },
  { serviceAccount: 'plexus-issuer', calls: ISSUER_API_CALLS },
];

/** The namespace a call is made in, or undefined for cluster-wide calls. */
export function namespaceOf(call: ApiCall, meshNamespace: string): string | undefined {
  return call.scope === 'mesh' ? meshNamespace : call.scope === 'kube-system' ? 'kube-system' : undefined;
}
