import { expect } from 'chai';
import { at, loadManifests, type Json } from './load-manifests.js';
import { AGENT_API_CALLS, namespaceOf } from '../../../src/cli/commands/check-agent-rbac.js';
import { allows, rulesFor } from './rbac.js';

const manifests = loadManifests();
const agent = { namespace: 'plexus', name: 'plexus-agent' };
const MESH_NAMESPACE = 'plexus';


describe('manifests/: RBAC covers every call the agent makes', () => {
  for (const call of AGENT_API_CALLS) {
    for (const verb of call.verbs) {
      const target = `${verb} ${call.group || 'core'}/${call.resource}${call.resourceName ? `/${call.resourceName}` : ''} in ${call.scope}`;
      it(`${target} (${call.by})`, () => {
        const namespace = namespaceOf(call, MESH_NAMESPACE);
        const request = { group: call.group, resource: call.resource, verb, ...(namespace ? { namespace } : {}), ...(call.resourceName ? { name: call.resourceName } : {}) };
        expect(allows(manifests, agent, request), target).to.equal(true);
      });
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

  it('writes nothing cluster-wide but Events, NetworkPolicies (secure mode), TokenReviews (which store nothing) and the status of Gateway API routes, and reads no Secrets outside the mesh namespace', () => {
    for (const rule of rulesFor(manifests, agent, undefined)) {
      const writes = (at(rule, 'verbs') as string[]).filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length > 0) {
        expect([['events'], ['tokenreviews'], ['networkpolicies'], ['httproutes/status', 'grpcroutes/status']], JSON.stringify(rule)).to.deep.include(at(rule, 'resources'));
      }
      if ((at(rule, 'resources') as string[]).includes('httproutes/status')) expect(at(rule, 'verbs')).to.deep.equal(['patch']);
      if ((at(rule, 'resources') as string[]).includes('tokenreviews')) expect(at(rule, 'verbs')).to.deep.equal(['create']);
      expect(at(rule, 'resources') as string[]).not.to.include('secrets');
    }
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

  it('in the mesh namespace, reads only the CA Secret, by name, and writes no Secret', () => {
    const mesh = { group: '', resource: 'secrets', namespace: MESH_NAMESPACE };
    expect(allows(manifests, agent, { ...mesh, verb: 'get', name: 'plexus-ca' })).to.equal(true);
    expect(allows(manifests, agent, { ...mesh, verb: 'get', name: 'default-token' })).to.equal(false);
    for (const verb of ['list', 'watch', 'create', 'update', 'patch', 'delete']) {
      expect(allows(manifests, agent, { ...mesh, verb, name: 'plexus-ca' }), verb).to.equal(false);
    }
  });

  it('grants no verb the agent does not use (every grant is a call in AGENT_API_CALLS, which test/e2e/kube-rbac checks against real requests)', () => {
    for (const { object } of manifests.filter((m) => m.object['kind'] === 'Role' || m.object['kind'] === 'ClusterRole')) {
      const scope = object['kind'] === 'ClusterRole' ? 'cluster' : at(object, 'metadata', 'namespace') === 'kube-system' ? 'kube-system' : 'mesh';
      for (const rule of (at(object, 'rules') as Json[]) ?? []) {
        for (const group of at(rule, 'apiGroups') as string[]) {
          for (const resource of at(rule, 'resources') as string[]) {
            for (const verb of at(rule, 'verbs') as string[]) {
              const used = AGENT_API_CALLS.some((c) => c.group === group && c.resource === resource && c.verbs.includes(verb) && (c.scope === scope || c.scope === 'cluster'));
              expect(used, `${verb} ${group || 'core'}/${resource} (${scope}) is granted but never called`).to.equal(true);
            }
          }
        }
      }
    }
  });
});
