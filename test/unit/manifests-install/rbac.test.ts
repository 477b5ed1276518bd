import { expect } from 'chai';
import { at, loadManifests, type Json } from './load-manifests.js';
import { namespaceOf, SERVICE_ACCOUNT_CALLS, type ApiCall } from '../../../src/cli/commands/check-agent-rbac.js';
import { allows, rulesFor } from './rbac.js';

const manifests = loadManifests();
const agent = { namespace: 'plexus', name: 'plexus-agent' };
const issuer = { namespace: 'plexus', name: 'plexus-issuer' };
const MESH_NAMESPACE = 'plexus';

describe('manifests/: RBAC covers every call the agent and the issuer make', () => {
  for (const { serviceAccount, calls } of SERVICE_ACCOUNT_CALLS) {
    for (const call of calls) {
      for (const verb of call.verbs) {
        const target = `${serviceAccount}: ${verb} ${call.group || 'core'}/${call.resource}${call.resourceName ? `/${call.resourceName}` : ''} in ${call.scope}`;
        it(`${target} (${call.by})`, () => {
          const namespace = namespaceOf(call, MESH_NAMESPACE);
          const request = { group: call.group, resource: call.resource, verb, ...(namespace ? { namespace } : {}), ...(call.resourceName ? { name: call.resourceName } : {}) };
          expect(allows(manifests, { namespace: MESH_NAMESPACE, name: serviceAccount }, request), target).to.equal(true);
        });
      }
    }
  }
});

describe('manifests/: RBAC is least privilege', () => {
  const verbsOf = (rules: Json[]): string[] => rules.flatMap((r) => at(r, 'verbs') as string[]);

  it('uses no wildcards', () => {
    for (const { object } of manifests.filter((m) => m.object['kind'] === 'Role' || m.object['kind'] === 'ClusterRole')) {
      for (const rule of (at(object, 'rules') as Json[]) ?? []) {
        for (const field of ['apiGroups', 'resources', 'verbs']) expect(at(rule, field) as string[], field).not.to.include('*');
      }
    }
  });

  it('the agent writes nothing cluster-wide but Events, NetworkPolicies (secure mode) and the status of Gateway API routes, and reads no Secrets anywhere', () => {
    for (const rule of rulesFor(manifests, agent, undefined)) {
      const writes = (at(rule, 'verbs') as string[]).filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length > 0) {
        expect([['events'], ['networkpolicies'], ['httproutes/status', 'grpcroutes/status']], JSON.stringify(rule)).to.deep.include(at(rule, 'resources'));
      }
      if ((at(rule, 'resources') as string[]).includes('httproutes/status')) expect(at(rule, 'verbs')).to.deep.equal(['patch']);
      expect(at(rule, 'resources') as string[]).not.to.include('secrets');
    }
    expect(allows(manifests, agent, { group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create' })).to.equal(false);
    expect(allows(manifests, agent, { group: '', resource: 'secrets', verb: 'get', namespace: 'default' })).to.equal(false);
    expect(allows(manifests, agent, { group: '', resource: 'services', verb: 'delete', namespace: 'default' })).to.equal(false);
  });

  it('in kube-system, writes only the named CoreDNS objects and reads no Secrets', () => {
    expect(allows(manifests, agent, { group: '', resource: 'configmaps', verb: 'update', namespace: 'kube-system', name: 'kube-proxy' })).to.equal(false);
    expect(allows(manifests, agent, { group: 'apps', resource: 'deployments', verb: 'patch', namespace: 'kube-system', name: 'metrics-server' })).to.equal(false);
    expect(allows(manifests, agent, { group: '', resource: 'secrets', verb: 'get', namespace: 'kube-system' })).to.equal(false);
    const kubeSystemOnly = rulesFor(manifests, agent, 'kube-system').filter((r) => !rulesFor(manifests, agent, undefined).includes(r));
    for (const rule of kubeSystemOnly) {
      const writes = (at(rule, 'verbs') as string[]).filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length > 0) expect(at(rule, 'resourceNames'), JSON.stringify(rule)).to.be.an('array').that.is.not.empty;
    }
    expect(verbsOf(kubeSystemOnly)).not.to.include('delete');
  });

  it('only the issuer reads the CA Secret, by name; nobody lists, watches or writes Secrets', () => {
    const mesh = { group: '', resource: 'secrets', namespace: MESH_NAMESPACE };
    expect(allows(manifests, issuer, { ...mesh, verb: 'get', name: 'plexus-ca' })).to.equal(true);
    expect(allows(manifests, agent, { ...mesh, verb: 'get', name: 'plexus-ca' })).to.equal(false);
    expect(allows(manifests, issuer, { ...mesh, verb: 'get', name: 'default-token' })).to.equal(false);
    expect(allows(manifests, issuer, { group: '', resource: 'secrets', verb: 'get', namespace: 'default', name: 'plexus-ca' })).to.equal(false);
    for (const subject of [agent, issuer]) {
      for (const verb of ['list', 'watch', 'create', 'update', 'patch', 'delete']) {
        expect(allows(manifests, subject, { ...mesh, verb, name: 'plexus-ca' }), `${subject.name} ${verb}`).to.equal(false);
      }
    }
  });

  it('the issuer writes nothing: it creates TokenReviews (which store nothing) and reads pods', () => {
    for (const namespace of [undefined, MESH_NAMESPACE]) {
      for (const rule of rulesFor(manifests, issuer, namespace)) {
        const writes = (at(rule, 'verbs') as string[]).filter((v) => !['get', 'list', 'watch'].includes(v));
        if (writes.length > 0) expect(at(rule, 'resources'), JSON.stringify(rule)).to.deep.equal(['tokenreviews']);
      }
    }
  });

  it('grants no verb that is not used (every grant is a call of AGENT_API_CALLS or ISSUER_API_CALLS, which test/e2e/kube-rbac and kube-secure check against real requests)', () => {
    const callsOf = (role: Json): readonly ApiCall[] => {
      const kind = at(role, 'kind');
      const name = at(role, 'metadata', 'name');
      const binding = manifests.map((m) => m.object).find((o) => o['kind'] === `${kind as string}Binding` && at(o, 'roleRef', 'name') === name
        && (kind === 'ClusterRole' || at(o, 'metadata', 'namespace') === at(role, 'metadata', 'namespace')));
      const subject = (at(binding, 'subjects') as Json[] | undefined)?.[0];
      return SERVICE_ACCOUNT_CALLS.find((s) => s.serviceAccount === at(subject, 'name'))?.calls ?? [];
    };
    for (const { object } of manifests.filter((m) => m.object['kind'] === 'Role' || m.object['kind'] === 'ClusterRole')) {
      const scope = object['kind'] === 'ClusterRole' ? 'cluster' : at(object, 'metadata', 'namespace') === 'kube-system' ? 'kube-system' : 'mesh';
      const calls = callsOf(object);
      for (const rule of (at(object, 'rules') as Json[]) ?? []) {
        for (const group of at(rule, 'apiGroups') as string[]) {
          for (const resource of at(rule, 'resources') as string[]) {
            for (const verb of at(rule, 'verbs') as string[]) {
              const used = calls.some((c) => c.group === group && c.resource === resource && c.verbs.includes(verb) && (c.scope === scope || c.scope === 'cluster'));
              expect(used, `${String(at(object, 'metadata', 'name'))}: ${verb} ${group || 'core'}/${resource} (${scope}) is granted but never called`).to.equal(true);
            }
          }
        }
      }
    }
  });
});
