import { expect } from 'chai';
import { isSmiApiVersion, parseSmiObject } from '../../../src/smi/parse.js';
import { SMI_RESOURCES } from '../../../src/smi/resources.js';
import { formatProblem } from '../../../src/model/problem.js';
import { accepted, rejected, warned } from './helpers.js';

const tcpRoute = (metadata: unknown): Record<string, unknown> => ({ apiVersion: 'specs.smi-spec.io/v1alpha3', kind: 'TCPRoute', metadata });

describe('smi/parse: any SMI object', () => {
  it('recognises every version of the three SMI groups, and nothing else', () => {
    for (const group of ['split.smi-spec.io', 'access.smi-spec.io', 'specs.smi-spec.io']) {
      expect(isSmiApiVersion(`${group}/v1alpha1`)).to.equal(true);
      expect(isSmiApiVersion(`${group}/v9`)).to.equal(true);
    }
    for (const other of ['v1', 'apps/v1', 'metrics.smi-spec.io/v1alpha1', 'split.smi-spec.io', '/v1alpha1', 7, null, undefined, {}]) {
      expect(isSmiApiVersion(other), String(other)).to.equal(false);
    }
  });

  it('describes the served kinds for CRDs and discovery', () => {
    expect(SMI_RESOURCES.map((r) => `${r.plural}.${r.group}`)).to.deep.equal([
      'trafficsplits.split.smi-spec.io', 'traffictargets.access.smi-spec.io', 'httproutegroups.specs.smi-spec.io',
      'tcproutes.specs.smi-spec.io', 'udproutes.specs.smi-spec.io',
    ]);
    expect(SMI_RESOURCES.find((r) => r.kind === 'TrafficSplit')?.versions).to.deep.equal(['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']);
    expect(SMI_RESOURCES.find((r) => r.kind === 'TrafficTarget')?.versions).to.deep.equal(['v1alpha1', 'v1alpha2', 'v1alpha3']);
  });

  it('defaults the namespace to "default" and keeps the creation timestamp', () => {
    const object = accepted(tcpRoute({ name: 'tcp', creationTimestamp: '2024-01-02T03:04:05Z' }));
    expect(object).to.deep.include({ namespace: 'default', name: 'tcp', creationTimestamp: '2024-01-02T03:04:05Z' });
  });

  it('warns about a creation timestamp that is not a string', () => {
    const { object, warnings } = warned(tcpRoute({ name: 'tcp', creationTimestamp: 5 }));
    expect(object).to.deep.include({ creationTimestamp: '' });
    expect(warnings).to.deep.equal(['metadata.creationTimestamp: must be an RFC 3339 string, got 5; ignored']);
  });

  it('rejects missing or invalid metadata, naming the object as far as it can', () => {
    const missing = parseSmiObject(tcpRoute(undefined));
    expect(missing.object).to.equal(null);
    expect(missing.problems.map(formatProblem)).to.deep.equal(['TCPRoute default/: metadata: required']);
    expect(rejected(tcpRoute({ namespace: 'shop' }))).to.deep.equal(['metadata.name: required']);
    expect(rejected(tcpRoute('x'))).to.deep.equal(['metadata: must be a mapping, got "x"']);
    expect(rejected(tcpRoute({ name: 'Bad_Name' })))
      .to.deep.equal([`metadata.name: must be a DNS subdomain (lowercase letters, digits, '-' and '.'), got "Bad_Name"`]);
    expect(rejected(tcpRoute({ name: 'a', namespace: 'a.b' })))
      .to.deep.equal([`metadata.namespace: must be a DNS label (lowercase letters, digits and '-'), got "a.b"`]);
  });

  it('rejects an unknown version of a known kind', () => {
    const result = parseSmiObject({ apiVersion: 'split.smi-spec.io/v1beta1', kind: 'TrafficSplit', metadata: { name: 's', namespace: 'shop' }, spec: {} });
    expect(result.object).to.equal(null);
    expect(result.problems.map(formatProblem)).to.deep.equal([
      'TrafficSplit shop/s: apiVersion: unknown version "v1beta1" of split.smi-spec.io for TrafficSplit (served: v1alpha1, v1alpha2, v1alpha3, v1alpha4)',
    ]);
    expect(rejected({ apiVersion: 'access.smi-spec.io/v1alpha4', kind: 'TrafficTarget', metadata: { name: 't' } }))
      .to.deep.equal(['apiVersion: unknown version "v1alpha4" of access.smi-spec.io for TrafficTarget (served: v1alpha1, v1alpha2, v1alpha3)']);
  });

  it('rejects an unknown kind, or a kind in the wrong group', () => {
    expect(rejected({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'GRPCRoute', metadata: { name: 'g' } }))
      .to.deep.equal(['kind: must be one of HTTPRouteGroup, TCPRoute, UDPRoute in specs.smi-spec.io, got "GRPCRoute"']);
    expect(rejected({ apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficSplit', metadata: { name: 'g' } }))
      .to.deep.equal(['kind: must be one of TrafficTarget in access.smi-spec.io, got "TrafficSplit"']);
    expect(rejected({ apiVersion: 'split.smi-spec.io/v1alpha4', metadata: { name: 'g' } }))
      .to.deep.equal(['kind: must be one of TrafficSplit in split.smi-spec.io, got undefined']);
  });

  it('rejects an object that is not SMI at all', () => {
    expect(rejected({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } })).to.deep.equal(['apiVersion: must be a version of an SMI group, got "v1"']);
    for (const raw of [null, undefined, 5, 'text', [], [{}]]) {
      const result = parseSmiObject(raw as unknown as Record<string, unknown>);
      expect(result.object).to.equal(null);
      expect(result.problems).to.have.length(1);
      expect(result.problems[0]).to.deep.include({ kind: '', namespace: 'default', name: '', severity: 'error' });
    }
  });

  it('carries the source location into the object and every problem', () => {
    const source = { file: 'manifests/split.yaml', line: 12 };
    const good = parseSmiObject(tcpRoute({ name: 'tcp', creationTimestamp: 5 }), source);
    expect(good.object?.source).to.deep.equal(source);
    expect(good.problems.map((p) => p.source)).to.deep.equal([source]);
    const bad = parseSmiObject({ apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 's', namespace: 'shop' }, spec: { service: 'web', backends: [{ service: 'a', weight: 'abc' }] } }, source);
    expect(bad.problems.map(formatProblem)).to.deep.equal([
      'TrafficSplit shop/s: spec.backends[0].weight: must be a non-negative whole number, got "abc" (manifests/split.yaml:12)',
    ]);
  });

  it('reports every problem of an object in one pass', () => {
    const errors = rejected({
      apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 's' },
      spec: { service: '', backends: [{ service: 'a', weight: -1 }, { weight: 1 }], matches: [{ kind: 'X', name: 'm' }] },
    });
    expect(errors).to.deep.equal([
      'spec.service: must not be empty',
      'spec.backends[0].weight: must be a non-negative whole number, got -1',
      'spec.backends[1].service: required',
      'spec.matches[0].kind: must be one of HTTPRouteGroup, got "X"',
    ]);
  });
});
