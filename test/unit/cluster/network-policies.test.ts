import { expect } from 'chai';
import { desiredNetworkPolicies, planNetworkPolicies } from '../../../src/cluster/network-policies.js';
import { compileObjects, service } from '../routing/builders.js';

describe('cluster/network-policies: the leader guards meshed pods', () => {
  const objects = [
    service('web', { selector: { app: 'web', tier: 'front' } }),
    service('plain', { annotations: {} }),
    { ...service('manual'), spec: { ports: [{ name: 'http', port: 80 }] } },
  ];
  const config = compileObjects(objects);
  const desired = desiredNetworkPolicies(config, objects, 'plexus');

  it('one policy per meshed Service with a selector, in its namespace, admitting only the agent pods', () => {
    expect(desired.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).to.deep.equal(['shop/plexus-web']);
    const [policy] = desired;
    expect(policy!.metadata.labels).to.deep.equal({ 'app.kubernetes.io/managed-by': 'plexus' });
    expect(policy!.spec).to.deep.equal({
      podSelector: { matchLabels: { app: 'web', tier: 'front' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'plexus' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' } },
      }] }],
    });
  });

  it('plans creates, updates when the selector changed (whatever the key order the server returns), and deletes orphans', () => {
    expect(planNetworkPolicies(desired, []).create).to.have.length(1);
    const stored = JSON.parse(JSON.stringify(desired[0])) as Record<string, unknown>;
    const reordered = { ...stored, spec: { ingress: (desired[0]!.spec.ingress), policyTypes: ['Ingress'], podSelector: { matchLabels: { tier: 'front', app: 'web' } } } };
    expect(planNetworkPolicies(desired, [reordered])).to.deep.equal({ create: [], update: [], delete: [] });
    const moved = { ...stored, spec: { ...desired[0]!.spec, podSelector: { matchLabels: { app: 'old' } } } };
    expect(planNetworkPolicies(desired, [moved]).update).to.have.length(1);
    const orphan = { metadata: { namespace: 'shop', name: 'plexus-gone' } };
    expect(planNetworkPolicies(desired, [stored, orphan]).delete).to.deep.equal([orphan]);
    expect(planNetworkPolicies([], [stored]).delete).to.have.length(1);
  });
});
