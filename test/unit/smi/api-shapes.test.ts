/**
 * Objects from the API server may carry another version's shape (the CRDs serve every version
 * from one schema, without conversion); objects from files are read strictly by their apiVersion.
 */
import { expect } from 'chai';
import { parseSmiObject } from '../../../src/smi/parse.js';
import { SMI_RESOURCES, otherVersionsNearestFirst } from '../../../src/smi/resources.js';
import type { SmiObject } from '../../../src/smi/model.js';
import { meta, rejected, warned } from './helpers.js';

/** Reads as the agent does in Kubernetes mode (no source) and asserts no problem at all. */
function fromApiServer(raw: Record<string, unknown>): SmiObject {
  const result = parseSmiObject(raw);
  expect(result.problems.map((p) => p.message)).to.deep.equal([]);
  expect(result.object).to.not.equal(null);
  return result.object as SmiObject;
}

/** Reads as the agent does in Kubernetes mode and asserts rejection; returns the errors. */
function rejectedFromApiServer(raw: Record<string, unknown>): string[] {
  const result = parseSmiObject(raw);
  expect(result.object).to.equal(null);
  return result.problems.filter((p) => p.severity === 'error').map((p) => p.message);
}

function split(spec: unknown): Record<string, unknown> {
  return { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: meta('web-split'), spec };
}

function routeGroup(fields: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: meta('routes'), ...fields };
}

function target(fields: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget', metadata: meta('api-access'), ...fields };
}

function tcpRoute(fields: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: meta('tcp'), ...fields };
}

describe('smi/parse: objects served in another version\'s shape', () => {
  it('tries the other versions nearest first, the newer on a tie', () => {
    const split = SMI_RESOURCES.find((r) => r.kind === 'TrafficSplit');
    const udp = SMI_RESOURCES.find((r) => r.kind === 'UDPRoute');
    if (split === undefined || udp === undefined) throw new Error('resources missing');
    expect(otherVersionsNearestFirst(split, 'v1alpha4')).to.deep.equal(['v1alpha3', 'v1alpha2', 'v1alpha1']);
    expect(otherVersionsNearestFirst(split, 'v1alpha1')).to.deep.equal(['v1alpha2', 'v1alpha3', 'v1alpha4']);
    expect(otherVersionsNearestFirst(split, 'v1alpha2')).to.deep.equal(['v1alpha3', 'v1alpha1', 'v1alpha4']);
    expect(otherVersionsNearestFirst(udp, 'v1alpha4')).to.deep.equal([]);
  });

  describe('TrafficSplit', () => {
    const quantities = { service: 'web', backends: [{ service: 'web-v1', weight: 1 }, { service: 'web-v2', weight: '500m' }, { service: 'web-v3', weight: 0.25 }] };

    it('reads v1alpha1 quantity weights in milli-units, keeping the served apiVersion', () => {
      expect(fromApiServer(split(quantities))).to.deep.equal({
        kind: 'TrafficSplit', namespace: 'shop', name: 'web-split', apiVersion: 'split.smi-spec.io/v1alpha4', creationTimestamp: '',
        service: 'web', matches: [],
        backends: [{ service: 'web-v1', weight: 1000 }, { service: 'web-v2', weight: 500 }, { service: 'web-v3', weight: 250 }],
      });
    });

    it('keeps whole-number weights as they are', () => {
      const object = fromApiServer(split({ service: 'web', backends: [{ service: 'a', weight: 90 }, { service: 'b', weight: 10 }] }));
      expect(object).to.deep.include({ backends: [{ service: 'a', weight: 90 }, { service: 'b', weight: 10 }] });
    });

    it('stays strict for a file', () => {
      expect(rejected(split(quantities))).to.deep.equal([
        'spec.backends[1].weight: must be a non-negative whole number, got "500m"',
        'spec.backends[2].weight: must be a non-negative whole number, got 0.25',
      ]);
    });

    it('still rejects malformed weights, with the served version\'s errors', () => {
      for (const weight of [-1, 'abc', '-500m']) {
        const raw = split({ service: 'web', backends: [{ service: 'a', weight }] });
        const expected = [`spec.backends[0].weight: must be a non-negative whole number, got ${JSON.stringify(weight)}`];
        expect(rejectedFromApiServer(raw)).to.deep.equal(expected);
        expect(rejected(raw)).to.deep.equal(expected);
      }
    });

    it('rejects quantity weights next to matches: reading them as v1alpha1 would drop the matches', () => {
      const raw = split({ ...quantities, matches: [{ kind: 'HTTPRouteGroup', name: 'beta' }] });
      expect(rejectedFromApiServer(raw)).to.have.length(2);
    });
  });

  describe('HTTPRouteGroup', () => {
    const topLevel = { matches: [{ name: 'beta', pathRegex: '/api', headers: [{ 'x-beta': 'true' }] }] };

    it('reads top-level matches as v1alpha2, headers included', () => {
      expect(fromApiServer(routeGroup(topLevel))).to.deep.include({
        apiVersion: 'specs.smi-spec.io/v1alpha4',
        matches: [{ name: 'beta', pathRegex: '/api', methods: [], headers: [{ name: 'x-beta', valueRegex: 'true' }] }],
      });
    });

    it('stays strict for a file', () => {
      expect(rejected(routeGroup(topLevel))).to.deep.equal(['spec.matches: required (top-level matches is the v1alpha1/v1alpha2 form)']);
    });

    it('still rejects a malformed group in either shape', () => {
      for (const raw of [
        routeGroup({ matches: [{ name: 'bad', pathRegex: '/api/(v1' }] }),
        routeGroup({ spec: { matches: [{ name: 'bad', pathRegex: '/api/(v1' }] } }),
        routeGroup({ spec: { matches: [{ pathRegex: '/api' }] } }),
      ]) {
        expect(rejectedFromApiServer(raw)).to.not.deep.equal([]);
        rejected(raw);
      }
    });
  });

  describe('TrafficTarget', () => {
    const destination = { kind: 'ServiceAccount', name: 'api', port: 8080 };
    const sources = [{ kind: 'ServiceAccount', name: 'web' }];
    const v1alpha1Shape = { destination, specs: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['beta'] }], sources };

    it('reads top-level destination, specs and sources as v1alpha1, keeping destination.port', () => {
      expect(fromApiServer(target(v1alpha1Shape))).to.deep.include({
        apiVersion: 'access.smi-spec.io/v1alpha3',
        destination: { name: 'api', namespace: 'shop' }, destinationPort: 8080,
        rules: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['beta'] }], sources: [{ name: 'web', namespace: 'shop' }],
      });
    });

    it('keeps the destination.port of a v1alpha2 target rather than widening it to every port', () => {
      const raw = target({ spec: { destination, rules: [{ kind: 'TCPRoute', name: 'tcp' }], sources } });
      expect(fromApiServer(raw)).to.deep.include({ destinationPort: 8080 });
      const file = warned(raw);
      expect(file.object).to.deep.include({ destinationPort: null });
      expect(file.warnings).to.deep.equal(['spec.destination.port: not a field of access.smi-spec.io/v1alpha3 (use TCPRoute or UDPRoute ports); ignored']);
    });

    it('stays strict for a file', () => {
      expect(rejected(target(v1alpha1Shape))).to.deep.equal(['spec: required']);
    });

    it('still rejects a malformed target in either shape', () => {
      for (const raw of [
        target({ ...v1alpha1Shape, destination: { kind: 'User', name: 'api' } }),
        target({ spec: { destination: { kind: 'User', name: 'api' }, rules: [{ kind: 'TCPRoute', name: 'tcp' }], sources } }),
      ]) {
        expect(rejectedFromApiServer(raw)).to.not.deep.equal([]);
        rejected(raw);
      }
    });
  });

  describe('TCPRoute', () => {
    it('reads a route without spec as v1alpha1–v1alpha3: every port', () => {
      expect(fromApiServer(tcpRoute({}))).to.deep.include({ apiVersion: 'specs.smi-spec.io/v1alpha4', ports: [] });
    });

    it('stays strict for a file', () => {
      expect(rejected(tcpRoute({}))).to.deep.equal(['spec: required']);
    });

    it('still rejects bad ports rather than widening the route to every port', () => {
      const raw = tcpRoute({ spec: { matches: { ports: [70000] } } });
      const expected = ['spec.matches.ports[0]: must be a port number (1-65535), got 70000'];
      expect(rejectedFromApiServer(raw)).to.deep.equal(expected);
      expect(rejected(raw)).to.deep.equal(expected);
    });
  });

  describe('UDPRoute (one version)', () => {
    it('has no other shape to fall back to', () => {
      const raw = { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'UDPRoute', metadata: meta('udp') };
      expect(rejectedFromApiServer(raw)).to.deep.equal(['spec: required']);
      expect(rejected(raw)).to.deep.equal(['spec: required']);
    });
  });
});
