/**
 * The CoreDNS server block Plexus adds for the mesh domain, and its marker lines.
 *
 * Plugin choice (CoreDNS 1.3 through current):
 * - `rewrite stop { name regex … answer name … }`: the block form with an answer rewrite has
 *   the same syntax in every supported version. Rules are tried in order and the first match
 *   stops, so the per-Service rules for hashed shadow names come before the generic rule.
 * - `kubernetes <cluster domain> { namespaces <mesh namespace> }` resolves the rewritten name
 *   to the shadow ClusterIP, and nothing outside the mesh namespace can be reached through the
 *   mesh domain. Before
 *   CoreDNS 1.7 it carries `upstream` like the default Corefiles of those versions did; from 1.7
 *   on `upstream` is a fatal parse error, so it is never written there (or when unknown).
 * - `errors`, `cache 30`: as in the default server block. No `reload`: it is global to the
 *   CoreDNS instance, so a second one would override the user's interval (Plexus rolls CoreDNS
 *   itself when the block changes). No `health`/`ready` (their listen address may only be
 *   claimed once) and no `forward`: names under the mesh domain that are not meshed Services
 *   must not leak to upstream resolvers.
 */
import { NAMESPACE_PATTERN, SHORT_FORM_SEPARATOR, SHORT_FORM_SERVICE_PATTERN, hasShortShadowName, shadowServiceName } from './shadow-name.js';
import { compareVersions, type CoreDnsVersion } from './corefile-version.js';

export interface MeshDnsOptions {
  /** The mesh domain clients query (`plexus`). */
  readonly meshDomain: string;
  /** The mesh namespace, home of the shadow Services. */
  readonly namespace: string;
  /** The cluster domain (`cluster.local`). */
  readonly clusterDomain: string;
  /** Port of the block; default 53. patchCorefile uses the port of the user's root server block. */
  readonly port?: number;
  /** CoreDNS version; null = unknown, the modern syntax is used. */
  readonly version: CoreDnsVersion | null;
  /**
   * The meshed Services. Only those whose shadow name is hashed get a rule of their own; the
   * others are covered by the generic rule. Names Kubernetes would reject are left out (no query
   * can name them). Without it, only short-form names resolve.
   */
  readonly services?: readonly ServiceRef[];
}

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

/** The oldest CoreDNS whose Corefile syntax the block is written for. */
export const DEFAULT_DNS_PORT = 53;

export const OLDEST_SUPPORTED: CoreDnsVersion = [1, 3, 0];
/** From this version on `kubernetes { upstream }` is a fatal error. */
const UPSTREAM_REMOVED: CoreDnsVersion = [1, 7, 0];

export const beginMarker = (meshDomain: string): string => `# BEGIN plexus mesh-domain=${meshDomain}`;
export const endMarker = (meshDomain: string): string => `# END plexus mesh-domain=${meshDomain}`;

const INDENT = '    ';

/** The block's lines, markers included, without line terminators. */
export function renderMeshBlock(opts: MeshDnsOptions): string[] {
  const { meshDomain, namespace, clusterDomain, version } = opts;
  const target = `${namespace}.svc.${clusterDomain}`;
  const hashed = hashedServices(opts.services ?? []);
  const lines = [
    beginMarker(meshDomain),
    '# Managed by Plexus (the leader agent, `plexus prepare`); `plexus cleanup` removes it. Edits here are overwritten.',
    `${meshDomain}:${opts.port ?? DEFAULT_DNS_PORT} {`,
    `${INDENT}errors`,
    `${INDENT}cache 30`,
  ];
  for (const svc of hashed) {
    const shadow = shadowServiceName(svc.namespace, svc.name);
    lines.push(
      ...rewriteRule(
        `^${escape(`${svc.name}.${svc.namespace}.${meshDomain}`)}\\.?$`,
        `${shadow}.${target}.`,
        `^${escape(`${shadow}.${target}`)}\\.?$`,
        `${svc.name}.${svc.namespace}.${meshDomain}.`,
      ),
    );
  }
  lines.push(
    ...rewriteRule(
      `^(${SHORT_FORM_SERVICE_PATTERN})\\.(${NAMESPACE_PATTERN})\\.${escape(meshDomain)}\\.?$`,
      `{1}${SHORT_FORM_SEPARATOR}{2}.${target}.`,
      `^(${SHORT_FORM_SERVICE_PATTERN})${SHORT_FORM_SEPARATOR}(${NAMESPACE_PATTERN})\\.${escape(target)}\\.?$`,
      `{1}.{2}.${meshDomain}.`,
    ),
  );
  const needsUpstream = version !== null && compareVersions(version, UPSTREAM_REMOVED) < 0;
  lines.push(`${INDENT}kubernetes ${clusterDomain} {`, `${INDENT}${INDENT}namespaces ${namespace}`);
  if (needsUpstream) lines.push(`${INDENT}${INDENT}upstream`);
  lines.push(`${INDENT}}`);
  lines.push('}', endMarker(meshDomain));
  return lines;
}

function rewriteRule(nameFrom: string, nameTo: string, answerFrom: string, answerTo: string): string[] {
  return [
    `${INDENT}rewrite stop {`,
    `${INDENT}${INDENT}name regex ${nameFrom} ${nameTo}`,
    `${INDENT}${INDENT}answer name ${answerFrom} ${answerTo}`,
    `${INDENT}}`,
  ];
}

const serviceName = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;
const namespaceName = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** A name the API server accepts; anything else cannot be queried and must not reach the Corefile. */
const isValidService = (s: ServiceRef): boolean =>
  s.name.length <= 63 && serviceName.test(s.name) && s.namespace.length <= 63 && namespaceName.test(s.namespace);

/** Services needing their own rule, deduplicated and sorted so the block is deterministic. */
function hashedServices(services: readonly ServiceRef[]): ServiceRef[] {
  const byKey = new Map<string, ServiceRef>();
  for (const s of services) {
    if (isValidService(s) && !hasShortShadowName(s.namespace, s.name)) byKey.set(`${s.namespace}/${s.name}`, { namespace: s.namespace, name: s.name });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

const escape = (name: string): string => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
