/**
 * The docs check for RBAC: install.md's table of what the agent may do says exactly what the
 * manifests grant its ServiceAccount (every Role and ClusterRole bound to it), verb for verb.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../helpers/paths.js';
import { plain, readDoc, section, tableRows } from './markdown.js';

const DOC = 'docs/install.md';
const AGENT = { name: 'plexus-agent', namespace: 'plexus' };
const SMI_RESOURCES = ['trafficsplits', 'traffictargets', 'httproutegroups', 'tcproutes', 'udproutes'];

interface Rule { readonly resources?: string[]; readonly resourceNames?: string[]; readonly verbs?: string[] }
interface K8sObject {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly rules?: Rule[];
  readonly roleRef?: { readonly kind?: string; readonly name?: string };
  readonly subjects?: { readonly kind?: string; readonly name?: string; readonly namespace?: string }[];
}

/** `scope|resource|names` → verbs, where scope is `cluster` or the Role's namespace. */
type Grants = Map<string, Set<string>>;

const grantKey = (scope: string, resource: string, names: readonly string[]): string => `${scope}|${resource}|${[...names].sort().join(',')}`;

function manifestObjects(): K8sObject[] {
  const dir = join(REPO_ROOT, 'manifests');
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    // Only files that can hold RBAC objects: the CRDs are large and hold none.
    .filter((text) => /^kind:\s*(Cluster)?Role(Binding)?\s*$/m.test(text))
    .flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as K8sObject | null))
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** What the manifests let the agent's ServiceAccount do. */
function agentGrants(): Grants {
  const objects = manifestObjects();
  const grants: Grants = new Map();
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    if (!binding.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === AGENT.name && s.namespace === AGENT.namespace)) continue;
    const scope = binding.kind === 'ClusterRoleBinding' ? 'cluster' : binding.metadata?.namespace ?? '';
    const role = objects.find((o) => o.kind === binding.roleRef?.kind && o.metadata?.name === binding.roleRef?.name
      && (o.kind === 'ClusterRole' || o.metadata?.namespace === binding.metadata?.namespace));
    for (const rule of role?.rules ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = grantKey(scope, resource, rule.resourceNames ?? []);
        const verbs = grants.get(key) ?? new Set<string>();
        for (const verb of rule.verbs ?? []) verbs.add(verb);
        grants.set(key, verbs);
      }
    }
  }
  return grants;
}

/** A kind as install.md writes it (`EndpointSlices`, `the Secret`) → its resource name. */
function resourceOf(word: string): string {
  const lower = word.toLowerCase();
  return lower.endsWith('s') ? lower : `${lower}s`;
}

/** install.md's RBAC table as grants, with the line of each. */
function documentedGrants(): { grants: Grants; lines: Map<string, number> } {
  const doc = readDoc(DOC);
  const where = section(doc, /^## RBAC/);
  if (!where) throw new Error(`${DOC} has no "## RBAC" section`);
  const grants: Grants = new Map();
  const lines = new Map<string, number>();
  for (const row of tableRows(doc, where.start, where.end)) {
    const [scopeCell = '', what = ''] = row.cells;
    const scope = plain(scopeCell);
    const [verbText = '', ...rest] = what.split(' ');
    const text = rest.join(' ');
    const names = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    // `HTTPRoutes/status` is the status subresource.
    const kinds = [...text.replace(/`[^`]*`|\bthe SMI kinds\b/g, '').matchAll(/\b([A-Z][A-Za-z]+)(\/[a-z]+)?\b/g)].map((m) => `${resourceOf(m[1]!)}${m[2] ?? ''}`);
    const resources = [...kinds, ...(/\bthe SMI kinds\b/.test(text) ? SMI_RESOURCES : [])];
    for (const resource of resources) {
      const key = grantKey(scope, resource, names);
      grants.set(key, new Set(verbText.split('/')));
      lines.set(key, row.line);
    }
  }
  return { grants, lines };
}

const describeKey = (key: string): string => {
  const [scope, resource, names] = key.split('|');
  return `${resource}${names ? ` ${names}` : ''} (${scope === 'cluster' ? 'cluster-wide' : `in ${scope}`})`;
};
const verbList = (verbs: ReadonlySet<string>): string => [...verbs].sort().join('/');

describe('docs check: RBAC (install.md against the manifests)', () => {
  it('install.md lists exactly the verbs the manifests grant the agent, on every resource', () => {
    const granted = agentGrants();
    const { grants: documented, lines } = documentedGrants();
    const problems: string[] = [];
    for (const [key, verbs] of granted) {
      const said = documented.get(key);
      if (!said) problems.push(`${DOC}, "## RBAC": the manifests grant ${verbList(verbs)} on ${describeKey(key)} and the table does not say so: add a row (or the kind to a row) with "${verbList(verbs)}"`);
      else if (verbList(said) !== verbList(verbs)) problems.push(`${DOC}:${lines.get(key)}: says ${verbList(said)} on ${describeKey(key)}; the manifests grant ${verbList(verbs)}`);
    }
    for (const key of documented.keys()) {
      if (!granted.has(key)) problems.push(`${DOC}:${lines.get(key)}: documents ${describeKey(key)}, which no Role or ClusterRole bound to ${AGENT.namespace}/${AGENT.name} grants`);
    }
    if (problems.length > 0) expect.fail(`install.md's RBAC table and the manifests disagree:\n\n${problems.join('\n\n')}\n`);
  });
});
