import { expect } from 'chai';
import { SMI_RESOURCES } from '../../../src/smi/resources.js';
import { at, isObject, loadManifests, type Json, type JsonObject } from './load-manifests.js';
import { prune, structuralErrors, validate } from './schema.js';

const crds = loadManifests().filter((m) => m.object['kind'] === 'CustomResourceDefinition').map((m) => m.object);

function schemaOf(crd: JsonObject, version: string): JsonObject {
  const versions = at(crd, 'spec', 'versions') as Json[];
  const schema = at(versions.find((v) => at(v, 'name') === version), 'schema', 'openAPIV3Schema');
  if (!isObject(schema)) throw new Error(`${String(at(crd, 'metadata', 'name'))}: no schema for ${version}`);
  return schema;
}

/** One object per kind and version, in the shape that version defines. */
const SAMPLES: Readonly<Record<string, Readonly<Record<string, JsonObject>>>> = {
  TrafficSplit: {
    v1alpha1: { spec: { service: 'web', backends: [{ service: 'web-v1', weight: '500m' }, { service: 'web-v2', weight: 1 }] } },
    v1alpha2: { spec: { service: 'web', backends: [{ service: 'web-v1', weight: 90 }, { service: 'web-v2', weight: 10 }] } },
    v1alpha3: { spec: { service: 'web', backends: [{ service: 'web-v2', weight: 1 }], matches: [{ kind: 'HTTPRouteGroup', name: 'ab' }] } },
    v1alpha4: { spec: { service: 'web', backends: [{ service: 'web-v1', weight: 0 }, { service: 'web-v2', weight: 100 }] } },
  },
  TrafficTarget: {
    v1alpha1: {
      destination: { kind: 'ServiceAccount', name: 'web', namespace: 'shop', port: 8080 },
      specs: [{ kind: 'HTTPRouteGroup', name: 'routes', matches: ['api'] }],
      sources: [{ kind: 'ServiceAccount', name: 'client', namespace: 'shop' }],
    },
    v1alpha2: {
      spec: {
        destination: { kind: 'ServiceAccount', name: 'web', port: 8080 },
        rules: [{ kind: 'TCPRoute', name: 'tcp' }],
        sources: [{ kind: 'ServiceAccount', name: 'client', namespace: 'shop' }],
      },
    },
    v1alpha3: {
      spec: {
        destination: { kind: 'ServiceAccount', name: 'dns', namespace: 'shop' },
        rules: [{ kind: 'UDPRoute', name: 'dns' }],
        sources: [{ kind: 'ServiceAccount', name: 'client', namespace: 'shop' }],
      },
    },
  },
  HTTPRouteGroup: {
    v1alpha1: { matches: [{ name: 'api', pathRegex: '/api', methods: ['GET', 'POST'] }] },
    v1alpha2: { matches: [{ name: 'android', headers: [{ 'user-agent': '.*Android.*' }] }] },
    v1alpha3: { spec: { matches: [{ name: 'all', methods: ['*'] }] } },
    v1alpha4: { spec: { matches: [{ name: 'ios', pathRegex: '/', headers: { 'user-agent': '.*iPhone.*' } }] } },
  },
  TCPRoute: {
    v1alpha1: {},
    v1alpha2: {},
    v1alpha3: { spec: {} },
    v1alpha4: { spec: { matches: { ports: [8080, 8443] } } },
  },
  UDPRoute: {
    v1alpha4: { spec: { matches: { ports: [] } } },
  },
};

const INVALID: ReadonlyArray<[kind: string, version: string, object: JsonObject]> = [
  ['TrafficSplit', 'v1alpha4', { spec: { service: 'web', backends: [{ service: 'a', weight: true }] } }],
  ['TrafficSplit', 'v1alpha3', { spec: { service: 'web', backends: [], matches: [{ kind: 'TCPRoute', name: 'x' }] } }],
  ['TrafficTarget', 'v1alpha3', { spec: { destination: { kind: 'ServiceAccount', name: 'web' } } }],
  ['HTTPRouteGroup', 'v1alpha4', { matches: [{ name: 'top-level form' }] }],
  ['HTTPRouteGroup', 'v1alpha2', { matches: [{ name: 'x', methods: ['FETCH'] }] }],
  ['TCPRoute', 'v1alpha4', { spec: { matches: { ports: [70000] } } }],
  ['UDPRoute', 'v1alpha4', { spec: {} }],
];

describe('manifests/: SMI CRDs', () => {
  it('one CRD per SMI kind Plexus reads', () => {
    expect(crds.map((c) => at(c, 'spec', 'names', 'kind')).sort()).to.deep.equal(SMI_RESOURCES.map((r) => r.kind).sort());
  });

  for (const resource of SMI_RESOURCES) {
    describe(`${resource.plural}.${resource.group}`, () => {
      const crd = crds.find((c) => at(c, 'metadata', 'name') === `${resource.plural}.${resource.group}`);

      it('names, scope and versions agree with src/smi/resources.ts; exactly one storage version, the newest', () => {
        expect(crd, 'CRD present').to.be.an('object');
        expect(at(crd, 'spec', 'group')).to.equal(resource.group);
        expect(at(crd, 'spec', 'scope')).to.equal('Namespaced');
        expect(at(crd, 'spec', 'names')).to.deep.include({
          kind: resource.kind, listKind: resource.listKind, plural: resource.plural, singular: resource.singular, shortNames: [...resource.shortNames],
        });
        const versions = at(crd, 'spec', 'versions') as Json[];
        expect(versions.map((v) => at(v, 'name'))).to.deep.equal([...resource.versions]);
        expect(versions.every((v) => at(v, 'served') === true)).to.equal(true);
        expect(versions.filter((v) => at(v, 'storage') === true).map((v) => at(v, 'name'))).to.deep.equal([resource.versions[resource.versions.length - 1]]);
        expect(at(crd, 'spec', 'conversion', 'strategy')).to.equal('None');
      });

      it('every version has a structural schema', () => {
        for (const version of resource.versions) expect(structuralErrors(schemaOf(crd as JsonObject, version)), version).to.deep.equal([]);
      });

      it('accepts each version\'s own shape, and no version prunes a field of another', () => {
        for (const [written, body] of Object.entries(SAMPLES[resource.kind] ?? {})) {
          const object: JsonObject = { apiVersion: `${resource.group}/${written}`, kind: resource.kind, metadata: { name: 'sample', namespace: 'shop' }, ...body };
          expect(validate(schemaOf(crd as JsonObject, written), object), `${written} sample`).to.deep.equal([]);
          // Without a conversion webhook the object is stored and read in other versions as is.
          for (const read of resource.versions) expect(prune(schemaOf(crd as JsonObject, read), object), `${written} read as ${read}`).to.deep.equal(object);
        }
        expect(Object.keys(SAMPLES[resource.kind] ?? {})).to.deep.equal([...resource.versions]);
      });

      it('rejects malformed objects at admission', () => {
        for (const [kind, version, body] of INVALID.filter(([k]) => k === resource.kind)) {
          expect(validate(schemaOf(crd as JsonObject, version), { apiVersion: `${resource.group}/${version}`, kind, metadata: {}, ...body }), `${kind} ${version}`).not.to.be.empty;
        }
      });
    });
  }
});
