/**
 * Generated input: hundreds of valid SMI objects of every kind and version, mutated at random
 * (seeded, so every run is the same). The parser must never throw, must reject exactly when it
 * reports an error, and every problem must be located.
 */
import { expect } from 'chai';
import { parseSmiObject } from '../../../src/smi/parse.js';
import { seededRandom as prng } from '../../helpers/prng.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const metadata = { name: 'obj', namespace: 'ns' };
const sa = { kind: 'ServiceAccount', name: 'sa' };
const TEMPLATES: Json[] = [
  ...['v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'].map((v) => ({
    apiVersion: `split.smi-spec.io/${v}`, kind: 'TrafficSplit', metadata,
    spec: { service: 'web', backends: [{ service: 'a', weight: v === 'v1alpha1' ? '500m' : 5 }, { service: 'b', weight: 1 }], matches: [{ kind: 'HTTPRouteGroup', name: 'g' }] },
  })),
  { apiVersion: 'access.smi-spec.io/v1alpha1', kind: 'TrafficTarget', metadata, destination: { ...sa, port: 80 }, specs: [{ kind: 'TCPRoute', name: 't' }], sources: [sa] },
  ...['v1alpha2', 'v1alpha3'].map((v) => ({
    apiVersion: `access.smi-spec.io/${v}`, kind: 'TrafficTarget', metadata,
    spec: { destination: sa, rules: [{ kind: 'HTTPRouteGroup', name: 'g', matches: ['m'] }], sources: [sa] },
  })),
  ...['v1alpha1', 'v1alpha2'].map((v) => ({
    apiVersion: `specs.smi-spec.io/${v}`, kind: 'HTTPRouteGroup', metadata,
    matches: [{ name: 'm', pathRegex: '/api', methods: ['GET'], headers: [{ 'user-agent': '.*' }] }],
  })),
  ...['v1alpha3', 'v1alpha4'].map((v) => ({
    apiVersion: `specs.smi-spec.io/${v}`, kind: 'HTTPRouteGroup', metadata,
    spec: { matches: [{ name: 'm', pathRegex: '/api', methods: ['*'], headers: { 'x-a': 'b' } }] },
  })),
  { apiVersion: 'specs.smi-spec.io/v1alpha3', kind: 'TCPRoute', metadata, spec: {} },
  { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata, spec: { matches: { ports: [80] } } },
  { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'UDPRoute', metadata, spec: { matches: { ports: [53] } } },
];

const NASTY: Json[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, '', ' ', 'abc', 'NaN', 'Infinity', '-0', '1e999999999', '500m', '(', '[', '\\',
  '.*', '*', '__proto__', 'constructor', 'x'.repeat(100_000), '9'.repeat(400), [], [null], [[]], {}, { '': '' }, { __proto__: 'x' },
  { kind: 'HTTPRouteGroup' }, { ports: 'x' }, ['GET', 5], [{ 'a b': 1 }],
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Replace, delete or add one value somewhere inside `value`. */
function mutate(random: () => number, value: Json, depth: number): Json {
  const roll = random();
  if (depth > 0 && roll < 0.15) return pick(random, NASTY);
  if (Array.isArray(value)) {
    if (value.length === 0 || roll < 0.25) return [...value, pick(random, NASTY)];
    const index = Math.floor(random() * value.length);
    return value.map((item, i) => (i === index ? mutate(random, item, depth + 1) : item));
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0 || roll < 0.2) return { ...value, [pick(random, ['spec', 'matches', 'weight', 'name', 'ports', 'headers', 'x'])]: pick(random, NASTY) };
    const key = pick(random, keys);
    if (roll < 0.3) {
      const rest = { ...value };
      delete rest[key];
      return rest;
    }
    return { ...value, [key]: mutate(random, value[key] as Json, depth + 1) };
  }
  return pick(random, NASTY);
}

describe('smi/parse: generated malformed input never throws', () => {
  it('parses 1500 mutated objects, rejecting exactly those with errors, every problem located', () => {
    const random = prng(20261123);
    const source = { file: 'gen.yaml', line: 3 };
    let rejectedCount = 0;
    for (let i = 0; i < 1500; i += 1) {
      let raw = pick(random, TEMPLATES);
      const mutations = 1 + Math.floor(random() * 4);
      for (let m = 0; m < mutations; m += 1) raw = mutate(random, raw, 0);
      const result = parseSmiObject(raw as Record<string, unknown>, source);
      const errors = result.problems.filter((p) => p.severity === 'error');
      const context = JSON.stringify(raw).slice(0, 300);
      expect(result.object === null, context).to.equal(errors.length > 0);
      for (const p of result.problems) {
        expect(p.message, context).to.match(/^[^:]+: \S/);
        expect(p.source, context).to.deep.equal(source);
        expect(typeof p.kind).to.equal('string');
        expect(p.namespace, context).to.not.equal('');
      }
      if (result.object !== null) expect(JSON.parse(JSON.stringify(result.object))).to.deep.equal(result.object);
      else rejectedCount += 1;
    }
    // The generator must exercise both outcomes.
    expect(rejectedCount).to.be.greaterThan(300);
    expect(rejectedCount).to.be.lessThan(1500);
  });

  it('survives values no YAML file produces: NaN, Infinity, functions, symbols, bigints, cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic['self'] = cyclic;
    const odd: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, () => 1, Symbol('s'), 10n, cyclic, new Date(0), new Map()];
    for (const value of odd) {
      for (const template of TEMPLATES) {
        const raw = { ...(template as Record<string, unknown>), spec: { service: value, backends: [{ service: value, weight: value }], matches: value } };
        expect(() => parseSmiObject(raw)).to.not.throw();
        expect(() => parseSmiObject({ ...raw, metadata: { name: value, namespace: value } })).to.not.throw();
        expect(() => parseSmiObject({ ...raw, metadata: value, kind: value, apiVersion: value })).to.not.throw();
      }
    }
  });
});
