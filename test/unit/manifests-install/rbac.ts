/** Test helper: decides whether RBAC objects grant a request to a ServiceAccount, like the authorizer. */
import { at, isObject, type Json, type Manifest } from './load-manifests.js';

export interface Request {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  /** Undefined for cluster-scoped resources or requests across all namespaces. */
  readonly namespace?: string;
  readonly name?: string;
}

export interface Subject {
  readonly namespace: string;
  readonly name: string;
}

const strings = (v: Json | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function ruleGrants(rule: Json, req: Request): boolean {
  const names = strings(at(rule, 'resourceNames'));
  // Like the real authorizer: resourceNames never match list/watch of a collection or create.
  const nameOk = names.length === 0 || (req.name !== undefined && names.includes(req.name));
  return (
    strings(at(rule, 'apiGroups')).some((g) => g === '*' || g === req.group) &&
    strings(at(rule, 'resources')).some((r) => r === '*' || r === req.resource) &&
    strings(at(rule, 'verbs')).some((v) => v === '*' || v === req.verb) &&
    nameOk
  );
}

function bindsSubject(binding: Json, subject: Subject, bindingNamespace: string | undefined): boolean {
  const subjects = at(binding, 'subjects');
  return (
    Array.isArray(subjects) &&
    subjects.some(
      (s) => at(s, 'kind') === 'ServiceAccount' && at(s, 'name') === subject.name && (at(s, 'namespace') ?? bindingNamespace) === subject.namespace,
    )
  );
}

/** The rules that apply to `subject` for a request in `namespace` (undefined = cluster-wide only). */
export function rulesFor(manifests: readonly Manifest[], subject: Subject, namespace: string | undefined): Json[] {
  const objects = manifests.map((m) => m.object);
  const byKindName = (kind: string, name: Json | undefined, ns?: string): Json | undefined =>
    objects.find((o) => o['kind'] === kind && at(o, 'metadata', 'name') === name && (ns === undefined || at(o, 'metadata', 'namespace') === ns));
  const rules: Json[] = [];
  for (const binding of objects) {
    const kind = binding['kind'];
    const bindingNamespace = at(binding, 'metadata', 'namespace');
    if (kind === 'ClusterRoleBinding' && bindsSubject(binding, subject, undefined)) {
      rules.push(...rulesOf(byKindName('ClusterRole', at(binding, 'roleRef', 'name'))));
    }
    if (kind === 'RoleBinding' && namespace !== undefined && bindingNamespace === namespace && bindsSubject(binding, subject, namespace)) {
      const refKind = at(binding, 'roleRef', 'kind');
      const role = refKind === 'ClusterRole' ? byKindName('ClusterRole', at(binding, 'roleRef', 'name')) : byKindName('Role', at(binding, 'roleRef', 'name'), namespace);
      rules.push(...rulesOf(role));
    }
  }
  return rules;
}

function rulesOf(role: Json | undefined): Json[] {
  const rules = isObject(role) ? role['rules'] : undefined;
  return Array.isArray(rules) ? rules : [];
}

export function allows(manifests: readonly Manifest[], subject: Subject, req: Request): boolean {
  return rulesFor(manifests, subject, req.namespace).some((rule) => ruleGrants(rule, req));
}
