import { expect } from 'chai';
import { compile } from '../../../src/routing/compile.js';
import { formatIgnored, ignoredObjects } from '../../../src/routing/ignored.js';
import { formatProblem } from '../../../src/model/problem.js';
import { objectUse, readObject } from '../../../src/routing/read-object.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { closestName } from '../../../src/routing/suggest.js';

function object(apiVersion: string, kind: string, name = 'x', namespace = 'shop'): RawObject {
  return { apiVersion, kind, metadata: { name, namespace } };
}

describe('what Plexus does with each object (objectUse)', () => {
  it('reads the kinds the compiler uses', () => {
    for (const [apiVersion, kind] of [['v1', 'Service'], ['v1', 'Endpoints'], ['v1', 'Pod'], ['v1', 'Namespace'],
      ['discovery.k8s.io/v1', 'EndpointSlice'], ['discovery.k8s.io/v1beta1', 'EndpointSlice'],
      ['split.smi-spec.io/v1alpha4', 'TrafficSplit'], ['split.smi-spec.io/v9', 'TrafficSplit']] as const) {
      expect(objectUse(object(apiVersion, kind)).use, `${apiVersion} ${kind}`).to.equal('read');
    }
  });

  it('ignores on purpose the kinds it does not use, in any group', () => {
    for (const [apiVersion, kind] of [['apps/v1', 'Deployment'], ['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'ServiceAccount'],
      ['serving.knative.dev/v1', 'Service'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['example.com/v1', 'Widget']] as const) {
      expect(objectUse(object(apiVersion, kind)).use, `${apiVersion} ${kind}`).to.equal('ignored');
    }
  });

  it('reports an unknown kind or version of a group it reads as an error problem at the object', () => {
    const cases: Array<[RawObject, string]> = [
      [object('v9', 'Service', 'a'), 'Service shop/a: apiVersion "v9" does not exist: the core API group (Service, Pod, …) has only "v1" (f.yaml:3)'],
      [object('v1', 'Servce', 'b'), 'Servce shop/b: kind "Servce" is not a kind of apiVersion v1 (did you mean Service?); the object is not used (f.yaml:3)'],
      [object('v1', 'Gadget', 'c'), 'Gadget shop/c: kind "Gadget" is not a kind of apiVersion v1; the object is not used (f.yaml:3)'],
      [object('discovery.k8s.io/v2', 'EndpointSlice', 'd'), 'EndpointSlice shop/d: unknown version "v2" of discovery.k8s.io (served: v1, v1beta1); the object is not used (f.yaml:3)'],
      [object('discovery.k8s.io/v1', 'EndpointSlices', 'e'), 'EndpointSlices shop/e: kind "EndpointSlices" is not a kind of discovery.k8s.io (it has EndpointSlice); the object is not used (f.yaml:3)'],
    ];
    for (const [raw, expected] of cases) {
      const result = readObject(raw, { file: 'f.yaml', line: 3 });
      expect(result.object).to.equal(null);
      expect(result.problems.map((p) => [p.severity, formatProblem(p)])).to.deep.equal([['error', expected]]);
    }
  });

  it('the compile reports those problems, so the summary no longer just counts fewer Services', () => {
    const raws = [object('v1', 'Service', 'web'), object('v9', 'Service', 'typo')];
    const config = compile({ objects: raws }, { nodeName: 'n', meshDomain: 'plexus', listenerPorts: null });
    expect(config.problems.map((p) => `${p.kind} ${p.name}`)).to.deep.equal(['Service typo']);
  });

  it('lists the ignored objects by apiVersion and kind, with where they are', () => {
    const deployment = object('apps/v1', 'Deployment', 'web');
    const clusterWide = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' } };
    const raws = [object('v1', 'Service', 'web'), deployment, object('apps/v1', 'Deployment', 'db'), clusterWide];
    const kinds = ignoredObjects({ objects: raws, sources: new Map([[deployment, { file: 'shop.yaml', line: 12 }]]) });
    expect(kinds.map((k) => [k.apiVersion, k.kind, k.objects.map(formatIgnored)])).to.deep.equal([
      ['apps/v1', 'Deployment', ['Deployment shop/web (apps/v1, shop.yaml:12)', 'Deployment shop/db (apps/v1)']],
      ['rbac.authorization.k8s.io/v1', 'ClusterRole', ['ClusterRole reader (rbac.authorization.k8s.io/v1)']],
    ]);
  });

  it('suggests a known name only when it is close', () => {
    expect(closestName('Servce', ['Service', 'Secret'])).to.equal('Service');
    expect(closestName('service', ['Service'])).to.equal('Service');
    expect(closestName('Endpoint', ['Endpoints', 'Pod'])).to.equal('Endpoints');
    expect(closestName('Deployment', ['Service', 'Pod'])).to.equal(undefined);
  });
});
