import { expect } from 'chai';
import { accepted, meta, rejected, warned } from './helpers.js';

function split(version: string, spec: unknown): Record<string, unknown> {
  return { apiVersion: `split.smi-spec.io/${version}`, kind: 'TrafficSplit', metadata: meta('web-split'), spec };
}

describe('smi/split: TrafficSplit', () => {
  describe('v1alpha1 (quantity weights)', () => {
    it('converts weights to milli-units: 1 = 1000m, 500m = 500', () => {
      const object = accepted(split('v1alpha1', {
        service: 'web', backends: [{ service: 'web-v1', weight: 1 }, { service: 'web-v2', weight: '500m' }, { service: 'web-v3', weight: '1.5' }],
      }));
      expect(object).to.deep.equal({
        kind: 'TrafficSplit', namespace: 'shop', name: 'web-split', apiVersion: 'split.smi-spec.io/v1alpha1', creationTimestamp: '',
        service: 'web', matches: [],
        backends: [{ service: 'web-v1', weight: 1000 }, { service: 'web-v2', weight: 500 }, { service: 'web-v3', weight: 1500 }],
      });
    });

    it('rejects a malformed quantity with its location', () => {
      const errors = rejected(split('v1alpha1', { service: 'web', backends: [{ service: 'a', weight: '1' }, { service: 'b', weight: 'abc' }] }));
      expect(errors).to.deep.equal(['spec.backends[1].weight: is not a valid quantity (examples: 1, 500m, 1.5, 2k), got "abc"']);
    });

    it('rejects a negative quantity', () => {
      expect(rejected(split('v1alpha1', { service: 'web', backends: [{ service: 'a', weight: '-1' }] })))
        .to.deep.equal(['spec.backends[0].weight: must not be negative, got "-1"']);
    });

    it('ignores spec.matches with a warning (not a field before v1alpha3)', () => {
      const { object, warnings } = warned(split('v1alpha1', { service: 'web', backends: [], matches: [{ kind: 'HTTPRouteGroup', name: 'x' }] }));
      expect(object).to.deep.include({ matches: [] });
      expect(warnings).to.deep.equal(['spec.matches: not a field of split.smi-spec.io/v1alpha1 (added in v1alpha3); ignored']);
    });
  });

  describe('v1alpha2 (whole-number weights)', () => {
    it('accepts whole numbers including zero', () => {
      const object = accepted(split('v1alpha2', { service: 'web', backends: [{ service: 'a', weight: 90 }, { service: 'b', weight: 0 }] }));
      expect(object).to.deep.include({ backends: [{ service: 'a', weight: 90 }, { service: 'b', weight: 0 }] });
    });

    for (const bad of [-1, 1.5, '50', '500m', true, null, Number.NaN, 1e300]) {
      it(`rejects weight ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`, () => {
        const errors = rejected(split('v1alpha2', { service: 'web', backends: [{ service: 'a', weight: bad }] }));
        expect(errors).to.have.length(1);
        expect(errors[0]).to.match(/^spec\.backends\[0\]\.weight: (must be a non-negative whole number|must be at most|required)/);
      });
    }

    it('reports the exact message for a string weight', () => {
      expect(rejected(split('v1alpha2', { service: 'web', backends: [{ service: 'a', weight: 1 }, { service: 'b', weight: 'abc' }] })))
        .to.deep.equal(['spec.backends[1].weight: must be a non-negative whole number, got "abc"']);
    });

    it('warns about spec.matches, which v1alpha2 does not have', () => {
      const { warnings } = warned(split('v1alpha2', { service: 'web', backends: [{ service: 'a', weight: 1 }], matches: [] }));
      expect(warnings).to.have.length(1);
    });
  });

  for (const version of ['v1alpha3', 'v1alpha4']) {
    describe(`${version} (matches)`, () => {
      it('keeps HTTPRouteGroup match references, without duplicates', () => {
        const object = accepted(split(version, {
          service: 'web', backends: [{ service: 'a', weight: 0 }, { service: 'b', weight: 100 }],
          matches: [{ kind: 'HTTPRouteGroup', name: 'firefox' }, { kind: 'HTTPRouteGroup', name: 'firefox' }, { kind: 'HTTPRouteGroup', name: 'beta' }],
        }));
        expect(object).to.deep.include({ apiVersion: `split.smi-spec.io/${version}`, matches: ['firefox', 'beta'] });
      });

      it('treats absent matches as "split every request"', () => {
        expect(accepted(split(version, { service: 'web', backends: [{ service: 'a', weight: 1 }] }))).to.deep.include({ matches: [] });
      });

      it('rejects a match of another kind, or without a name', () => {
        expect(rejected(split(version, { service: 'web', backends: [], matches: [{ kind: 'TCPRoute', name: 'x' }, { kind: 'HTTPRouteGroup' }] })))
          .to.deep.equal(['spec.matches[0].kind: must be one of HTTPRouteGroup, got "TCPRoute"', 'spec.matches[1].name: required']);
      });

      it('rejects matches that are not a list', () => {
        expect(rejected(split(version, { service: 'web', backends: [], matches: 'firefox' })))
          .to.deep.equal(['spec.matches: must be a list, got "firefox"']);
      });

      it('rejects a fractional weight', () => {
        expect(rejected(split(version, { service: 'web', backends: [{ service: 'a', weight: 0.5 }] })))
          .to.deep.equal(['spec.backends[0].weight: must be a non-negative whole number, got 0.5']);
      });
    });
  }

  describe('every version', () => {
    for (const version of ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4']) {
      it(`${version}: rejects a missing spec, service, backends, backend service or weight`, () => {
        expect(rejected(split(version, undefined))).to.deep.equal(['spec: required']);
        expect(rejected(split(version, ['x']))).to.deep.equal(['spec: must be a mapping, got a list']);
        expect(rejected(split(version, { backends: [] }))).to.deep.equal(['spec.service: required']);
        expect(rejected(split(version, { service: 7, backends: [] }))).to.deep.equal(['spec.service: must be a string, got 7']);
        expect(rejected(split(version, { service: 'web' }))).to.deep.equal(['spec.backends: required']);
        expect(rejected(split(version, { service: 'web', backends: {} }))).to.deep.equal(['spec.backends: must be a list, got a mapping']);
        expect(rejected(split(version, { service: 'web', backends: ['a'] }))).to.deep.equal(['spec.backends[0]: must be a mapping, got "a"']);
        expect(rejected(split(version, { service: 'web', backends: [{ weight: 1 }] }))).to.deep.equal(['spec.backends[0].service: required']);
        expect(rejected(split(version, { service: 'web', backends: [{ service: 'a' }] }))).to.deep.equal(['spec.backends[0].weight: required']);
      });

      it(`${version}: rejects a backend listed twice`, () => {
        expect(rejected(split(version, { service: 'web', backends: [{ service: 'a', weight: 1 }, { service: 'a', weight: 2 }] })))
          .to.deep.equal(['spec.backends[1].service: "a" is listed twice']);
      });

      it(`${version}: accepts an empty backend list (the compiler answers 503)`, () => {
        expect(accepted(split(version, { service: 'web', backends: [] }))).to.deep.include({ backends: [] });
      });
    }
  });
});
