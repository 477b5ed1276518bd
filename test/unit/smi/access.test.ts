import { expect } from 'chai';
import { accepted, meta, rejected, warned } from './helpers.js';

const destination = { kind: 'ServiceAccount', name: 'api' };
const sources = [{ kind: 'ServiceAccount', name: 'web', namespace: 'front' }, { kind: 'ServiceAccount', name: 'cli' }];

function v1alpha1(fields: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'access.smi-spec.io/v1alpha1', kind: 'TrafficTarget', metadata: meta('api-access'), ...fields };
}

function target(version: string, spec: unknown): Record<string, unknown> {
  return { apiVersion: `access.smi-spec.io/${version}`, kind: 'TrafficTarget', metadata: meta('api-access'), spec };
}

const expectedSources = [{ name: 'web', namespace: 'front' }, { name: 'cli', namespace: 'shop' }];

describe('smi/access: TrafficTarget', () => {
  describe('v1alpha1 (top-level destination, specs, sources)', () => {
    it('reads the top-level form; destination.port becomes destinationPort', () => {
      const object = accepted(v1alpha1({
        destination: { ...destination, namespace: 'shop', port: 8080 },
        specs: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['metrics'] }, { kind: 'TCPRoute', name: 'tcp' }],
        sources,
      }));
      expect(object).to.deep.equal({
        kind: 'TrafficTarget', namespace: 'shop', name: 'api-access', apiVersion: 'access.smi-spec.io/v1alpha1', creationTimestamp: '',
        destination: { name: 'api', namespace: 'shop' }, destinationPort: 8080,
        rules: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['metrics'] }, { kind: 'TCPRoute', name: 'tcp', matches: [] }],
        sources: expectedSources,
      });
    });

    it('without specs grants every request (empty rules); without port every port', () => {
      expect(accepted(v1alpha1({ destination, sources }))).to.deep.include({ rules: [], destinationPort: null });
    });

    it('warns when there are no sources', () => {
      const { warnings } = warned(v1alpha1({ destination }));
      expect(warnings).to.deep.equal(['sources: no sources: this TrafficTarget grants nothing']);
    });

    it('rejects UDPRoute rules (added in v1alpha3), bad ports and a missing destination', () => {
      expect(rejected(v1alpha1({ destination, specs: [{ kind: 'UDPRoute', name: 'u' }], sources })))
        .to.deep.equal(['specs[0].kind: must be one of HTTPRouteGroup, TCPRoute, got "UDPRoute"']);
      expect(rejected(v1alpha1({ destination: { ...destination, port: '8080' }, sources })))
        .to.deep.equal(['destination.port: must be a port number (1-65535), got "8080"']);
      expect(rejected(v1alpha1({ sources }))).to.deep.equal(['destination: required']);
    });
  });

  describe('v1alpha2 (spec.rules)', () => {
    it('reads spec.destination/rules/sources and keeps destination.port', () => {
      const object = accepted(target('v1alpha2', {
        destination: { ...destination, port: 9091 }, rules: [{ kind: 'HTTPRouteGroup', name: 'routes' }], sources,
      }));
      expect(object).to.deep.include({
        destination: { name: 'api', namespace: 'shop' }, destinationPort: 9091,
        rules: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: [] }], sources: expectedSources,
      });
    });

    it('rejects a UDPRoute rule and a missing spec', () => {
      expect(rejected(target('v1alpha2', { destination, rules: [{ kind: 'UDPRoute', name: 'u' }], sources })))
        .to.deep.equal(['spec.rules[0].kind: must be one of HTTPRouteGroup, TCPRoute, got "UDPRoute"']);
      expect(rejected(target('v1alpha2', undefined))).to.deep.equal(['spec: required']);
    });
  });

  describe('v1alpha3', () => {
    it('reads every rule kind including UDPRoute', () => {
      const object = accepted(target('v1alpha3', {
        destination: { ...destination, namespace: 'backend' },
        rules: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['a', 'b', 'a'] }, { kind: 'TCPRoute', name: 't' }, { kind: 'UDPRoute', name: 'u' }],
        sources,
      }));
      expect(object).to.deep.include({
        destination: { name: 'api', namespace: 'backend' }, destinationPort: null,
        rules: [
          { kind: 'HTTPRouteGroup', name: 'routes', matches: ['a', 'b'] },
          { kind: 'TCPRoute', name: 't', matches: [] },
          { kind: 'UDPRoute', name: 'u', matches: [] },
        ],
      });
    });

    it('requires a destination, at least one rule and at least one source', () => {
      expect(rejected(target('v1alpha3', { rules: [{ kind: 'TCPRoute', name: 't' }], sources }))).to.deep.equal(['spec.destination: required']);
      expect(rejected(target('v1alpha3', { destination, sources }))).to.deep.equal(['spec.rules: required']);
      expect(rejected(target('v1alpha3', { destination, rules: [], sources }))).to.deep.equal(['spec.rules: must list at least one rule']);
      expect(rejected(target('v1alpha3', { destination, rules: [{ kind: 'TCPRoute', name: 't' }] }))).to.deep.equal(['spec.sources: required']);
      expect(rejected(target('v1alpha3', { destination, rules: [{ kind: 'TCPRoute', name: 't' }], sources: [] })))
        .to.deep.equal(['spec.sources: must list at least one source']);
    });

    it('ignores destination.port with a warning (removed in v1alpha3)', () => {
      const { object, warnings } = warned(target('v1alpha3', { destination: { ...destination, port: '9091' }, rules: [{ kind: 'TCPRoute', name: 't' }], sources }));
      expect(object).to.deep.include({ destinationPort: null });
      expect(warnings).to.deep.equal(['spec.destination.port: not a field of access.smi-spec.io/v1alpha3 (use TCPRoute or UDPRoute ports); ignored']);
    });
  });

  for (const version of ['v1alpha2', 'v1alpha3']) {
    describe(`${version}: malformed references`, () => {
      const rules = [{ kind: 'HTTPRouteGroup', name: 'routes' }];
      it('rejects a destination or source of another kind, or without a name', () => {
        expect(rejected(target(version, { destination: { kind: 'Group', name: 'x' }, rules, sources })))
          .to.deep.equal(['spec.destination.kind: must be one of ServiceAccount, got "Group"']);
        expect(rejected(target(version, { destination: { name: 'x' }, rules, sources }))).to.deep.equal(['spec.destination.kind: required']);
        expect(rejected(target(version, { destination: { kind: 'ServiceAccount' }, rules, sources }))).to.deep.equal(['spec.destination.name: required']);
        expect(rejected(target(version, { destination, rules, sources: [{ kind: 'ServiceAccount', name: 'a', namespace: 3 }] })))
          .to.deep.equal(['spec.sources[0].namespace: must be a string, got 3']);
        expect(rejected(target(version, { destination, rules, sources: ['web'] }))).to.deep.equal(['spec.sources[0]: must be a mapping, got "web"']);
        expect(rejected(target(version, { destination, rules, sources: {} }))).to.deep.equal(['spec.sources: must be a list, got a mapping']);
      });

      it('rejects malformed rules and match names', () => {
        expect(rejected(target(version, { destination, rules: [{ kind: 'HTTPRouteGroup' }], sources }))).to.deep.equal(['spec.rules[0].name: required']);
        expect(rejected(target(version, { destination, rules: [{ name: 'x' }], sources }))).to.deep.equal(['spec.rules[0].kind: required']);
        expect(rejected(target(version, { destination, rules: [{ kind: 'HTTPRouteGroup', name: 'x', matches: [1] }], sources })))
          .to.deep.equal(['spec.rules[0].matches[0]: must be the name of an HTTPRouteGroup match, got 1']);
        expect(rejected(target(version, { destination, rules: [{ kind: 'HTTPRouteGroup', name: 'x', matches: 'a' }], sources })))
          .to.deep.equal(['spec.rules[0].matches: must be a list, got "a"']);
      });

      it('warns about matches on a TCPRoute rule', () => {
        const { object, warnings } = warned(target(version, { destination, rules: [{ kind: 'TCPRoute', name: 't', matches: ['x'] }], sources }));
        expect(object).to.deep.include({ rules: [{ kind: 'TCPRoute', name: 't', matches: [] }] });
        expect(warnings).to.deep.equal(['spec.rules[0].matches: only HTTPRouteGroup rules have matches; ignored for a TCPRoute']);
      });

      it('drops duplicate sources', () => {
        const object = accepted(target(version, { destination, rules, sources: [...sources, { kind: 'ServiceAccount', name: 'cli', namespace: 'shop' }] }));
        expect(object).to.deep.include({ sources: expectedSources });
      });
    });
  }
});
