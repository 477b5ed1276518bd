import { expect } from 'chai';
import { accepted, meta, rejected, warned } from './helpers.js';

function group(version: string, matches: unknown): Record<string, unknown> {
  const base = { apiVersion: `specs.smi-spec.io/${version}`, kind: 'HTTPRouteGroup', metadata: meta('routes') };
  return version === 'v1alpha1' || version === 'v1alpha2' ? { ...base, matches } : { ...base, spec: { matches } };
}

function route(kind: 'TCPRoute' | 'UDPRoute', version: string, spec?: unknown): Record<string, unknown> {
  return { apiVersion: `specs.smi-spec.io/${version}`, kind, metadata: meta('ports'), ...(spec === undefined ? {} : { spec }) };
}

const ALL = ['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'];
const WITH_HEADERS = ['v1alpha2', 'v1alpha3', 'v1alpha4'];

describe('smi/specs: HTTPRouteGroup', () => {
  for (const version of ALL) {
    describe(version, () => {
      it('reads name, pathRegex and uppercase methods', () => {
        const object = accepted(group(version, [
          { name: 'metrics', pathRegex: '/metrics', methods: ['GET', 'head'] },
          { name: 'everything', pathRegex: '.*', methods: ['*'] },
          { name: 'bare' },
          { name: 'star-and-more', methods: ['GET', '*'] },
          { name: 'empty-path', pathRegex: '', methods: [] },
        ]));
        expect(object).to.deep.include({
          kind: 'HTTPRouteGroup', apiVersion: `specs.smi-spec.io/${version}`,
          matches: [
            { name: 'metrics', pathRegex: '/metrics', methods: ['GET', 'HEAD'], headers: [] },
            { name: 'everything', pathRegex: '.*', methods: [], headers: [] },
            { name: 'bare', pathRegex: null, methods: [], headers: [] },
            { name: 'star-and-more', pathRegex: null, methods: [], headers: [] },
            { name: 'empty-path', pathRegex: null, methods: [], headers: [] },
          ],
        });
      });

      it('rejects an invalid path regex, keeping the reason', () => {
        const errors = rejected(group(version, [{ name: 'bad', pathRegex: '/api/(v1' }]));
        expect(errors).to.have.length(1);
        expect(errors[0]).to.match(/^(spec\.)?matches\[0\]\.pathRegex: invalid regular expression "\/api\/\(v1": Unterminated group$/);
      });

      it('rejects an unknown method, a missing name, a duplicate name, a non-list', () => {
        const prefix = version === 'v1alpha1' || version === 'v1alpha2' ? '' : 'spec.';
        expect(rejected(group(version, [{ name: 'a', methods: ['FETCH'] }])))
          .to.deep.equal([`${prefix}matches[0].methods[0]: must be one of *, GET, HEAD, PUT, POST, DELETE, CONNECT, OPTIONS, TRACE, PATCH, got "FETCH"`]);
        expect(rejected(group(version, [{ pathRegex: '/' }]))).to.deep.equal([`${prefix}matches[0].name: required`]);
        expect(rejected(group(version, [{ name: 'a' }, { name: 'a' }])))
          .to.deep.equal([`${prefix}matches[1].name: "a" is used by another match of this group`]);
        expect(rejected(group(version, { name: 'a' }))).to.deep.equal([`${prefix}matches: must be a list, got a mapping`]);
        expect(rejected(group(version, [{ name: 'a', methods: 'GET' }]))).to.deep.equal([`${prefix}matches[0].methods: must be a list, got "GET"`]);
        expect(rejected(group(version, [{ name: 'a', pathRegex: 5 }])))
          .to.deep.equal([`${prefix}matches[0].pathRegex: must be a regular expression string, got 5`]);
      });
    });
  }

  it('v1alpha1: warns about headers, a field it does not have', () => {
    const { object, warnings } = warned(group('v1alpha1', [{ name: 'a', headers: [{ 'user-agent': '.*' }] }]));
    expect(object).to.deep.include({ matches: [{ name: 'a', pathRegex: null, methods: [], headers: [] }] });
    expect(warnings).to.deep.equal(['matches[0].headers: not a field of specs.smi-spec.io/v1alpha1 (added in v1alpha2); ignored']);
  });

  for (const version of WITH_HEADERS) {
    describe(`${version} headers`, () => {
      const expected = [{ name: 'user-agent', valueRegex: '.*Firefox.*' }, { name: 'x-beta', valueRegex: '^(.*?;)?(type=insider)(;.*)?$' }];

      it('reads the list-of-mappings form (the CRD schema), lowercasing names', () => {
        const object = accepted(group(version, [{ name: 'ff', headers: [{ 'User-Agent': '.*Firefox.*' }, { 'X-Beta': '^(.*?;)?(type=insider)(;.*)?$' }] }]));
        expect(object).to.deep.include({ matches: [{ name: 'ff', pathRegex: null, methods: [], headers: expected }] });
      });

      it('reads the mapping form (the spec prose) to the same model', () => {
        const object = accepted(group(version, [{ name: 'ff', headers: { 'User-Agent': '.*Firefox.*', 'x-beta': '^(.*?;)?(type=insider)(;.*)?$' } }]));
        expect(object).to.deep.include({ matches: [{ name: 'ff', pathRegex: null, methods: [], headers: expected }] });
      });

      it('reads a list item carrying several headers', () => {
        const object = accepted(group(version, [{ name: 'ff', headers: [{ 'user-agent': '.*Firefox.*', 'x-beta': '^(.*?;)?(type=insider)(;.*)?$' }] }]));
        expect(object).to.deep.include({ matches: [{ name: 'ff', pathRegex: null, methods: [], headers: expected }] });
      });

      it('rejects invalid regexes, non-string values, bad names, duplicates and wrong shapes', () => {
        const at = version === 'v1alpha2' ? 'matches[0].headers' : 'spec.matches[0].headers';
        expect(rejected(group(version, [{ name: 'a', headers: [{ 'user-agent': '(' }] }]))[0])
          .to.match(new RegExp(`^${at.replace(/[.[\]]/g, '\\$&')}\\[0\\]\\.user-agent: invalid regular expression "\\(":`));
        expect(rejected(group(version, [{ name: 'a', headers: { 'x-n': 5 } }])))
          .to.deep.equal([`${at}.x-n: must be a regular expression string, got 5`]);
        expect(rejected(group(version, [{ name: 'a', headers: { 'bad header': 'x' } }])))
          .to.deep.equal([`${at}.bad header: "bad header" is not a valid header name`]);
        expect(rejected(group(version, [{ name: 'a', headers: [{ 'X-A': '1' }, { 'x-a': '2' }] }])))
          .to.deep.equal([`${at}[1].x-a: header "x-a" is filtered twice`]);
        expect(rejected(group(version, [{ name: 'a', headers: ['x'] }])))
          .to.deep.equal([`${at}[0]: must be a mapping of header name to regular expression, got "x"`]);
        expect(rejected(group(version, [{ name: 'a', headers: 'x' }])))
          .to.deep.equal([`${at}: must be a list of mappings or a mapping of header name to regular expression, got "x"`]);
      });
    });
  }

  for (const version of ['v1alpha3', 'v1alpha4']) {
    it(`${version}: requires spec.matches and explains a top-level matches`, () => {
      const base = { apiVersion: `specs.smi-spec.io/${version}`, kind: 'HTTPRouteGroup', metadata: meta('routes') };
      expect(rejected({ ...base, matches: [{ name: 'a' }] })).to.deep.equal(['spec.matches: required (top-level matches is the v1alpha1/v1alpha2 form)']);
      expect(rejected({ ...base, spec: {} })).to.deep.equal(['spec.matches: required']);
      expect(rejected({ ...base, spec: 3 })).to.deep.equal(['spec: must be a mapping, got 3', 'spec.matches: required']);
    });
  }

  for (const version of ['v1alpha1', 'v1alpha2']) {
    it(`${version}: requires top-level matches`, () => {
      expect(rejected({ apiVersion: `specs.smi-spec.io/${version}`, kind: 'HTTPRouteGroup', metadata: meta(), spec: { matches: [] } }))
        .to.deep.equal(['matches: required']);
    });
  }
});

describe('smi/specs: TCPRoute', () => {
  for (const version of ['v1alpha1', 'v1alpha2', 'v1alpha3']) {
    it(`${version}: has no fields and covers every port`, () => {
      expect(accepted(route('TCPRoute', version))).to.deep.include({ kind: 'TCPRoute', ports: [] });
      expect(accepted(route('TCPRoute', version, {}))).to.deep.include({ kind: 'TCPRoute', ports: [] });
    });

    it(`${version}: warns that spec.matches.ports does not restrict ports before v1alpha4`, () => {
      const { object, warnings } = warned(route('TCPRoute', version, { matches: { ports: [80] } }));
      expect(object).to.deep.include({ ports: [] });
      expect(warnings).to.deep.equal([`spec.matches: not a field of specs.smi-spec.io/${version} (ports came in v1alpha4); ignored, every port matches`]);
    });
  }

  describe('v1alpha4', () => {
    it('reads spec.matches.ports (duplicates dropped); an empty list means every port', () => {
      expect(accepted(route('TCPRoute', 'v1alpha4', { matches: { ports: [8301, 8302, 8301] } }))).to.deep.include({ ports: [8301, 8302] });
      expect(accepted(route('TCPRoute', 'v1alpha4', { matches: { ports: [] } }))).to.deep.include({ ports: [] });
      expect(accepted(route('TCPRoute', 'v1alpha4', { matches: { name: 'tcp', ports: [] } }))).to.deep.include({ ports: [] });
    });

    it('rejects missing fields and bad ports', () => {
      expect(rejected(route('TCPRoute', 'v1alpha4'))).to.deep.equal(['spec: required']);
      expect(rejected(route('TCPRoute', 'v1alpha4', {}))).to.deep.equal(['spec.matches: required']);
      expect(rejected(route('TCPRoute', 'v1alpha4', { matches: {} }))).to.deep.equal(['spec.matches.ports: required']);
      expect(rejected(route('TCPRoute', 'v1alpha4', { matches: [{ ports: [80] }] }))).to.deep.equal(['spec.matches: must be a mapping, got a list']);
      expect(rejected(route('TCPRoute', 'v1alpha4', { matches: { ports: [0, 80, 65536, '443', 1.5] } }))).to.deep.equal([
        'spec.matches.ports[0]: must be a port number (1-65535), got 0',
        'spec.matches.ports[2]: must be a port number (1-65535), got 65536',
        'spec.matches.ports[3]: must be a port number (1-65535), got "443"',
        'spec.matches.ports[4]: must be a port number (1-65535), got 1.5',
      ]);
    });
  });
});

describe('smi/specs: UDPRoute', () => {
  it('v1alpha4: reads spec.matches.ports', () => {
    expect(accepted(route('UDPRoute', 'v1alpha4', { matches: { ports: [53] } }))).to.deep.include({ kind: 'UDPRoute', ports: [53] });
    expect(accepted(route('UDPRoute', 'v1alpha4', { matches: { ports: [] } }))).to.deep.include({ kind: 'UDPRoute', ports: [] });
    expect(rejected(route('UDPRoute', 'v1alpha4', { matches: { ports: 53 } }))).to.deep.equal(['spec.matches.ports: must be a list, got 53']);
  });

  for (const version of ['v1alpha1', 'v1alpha2', 'v1alpha3']) {
    it(`${version}: does not exist`, () => {
      expect(rejected(route('UDPRoute', version, { matches: { ports: [] } })))
        .to.deep.equal([`apiVersion: unknown version "${version}" of specs.smi-spec.io for UDPRoute (served: v1alpha4)`]);
    });
  }
});
