/**
 * Generated input: hundreds of random, often malformed, objects from a seeded PRNG. Compile must
 * never throw, every problem must name its object and point at its source, and a Compiler that
 * remembers earlier compiles must give exactly what a fresh compile gives.
 */
import { expect } from 'chai';
import { Compiler, compile } from '../../../src/routing/compile.js';
import type { SourceLocation } from '../../../src/model/problem.js';
import type { CompileOptions } from '../../../src/routing/compile-options.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { namespace, pod, routeGroup, service, slice, tcpRoute, trafficSplit, trafficTarget } from './builders.js';
import { seededRandom as prng } from '../../helpers/prng.js';

class Gen {
  constructor(private readonly random: () => number) {}

  int(n: number): number { return Math.floor(this.random() * n); }
  chance(p: number): boolean { return this.random() < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]!; }

  /** Any JSON-ish value, to put where something else belongs. */
  junk(depth = 0): unknown {
    switch (this.int(depth > 1 ? 6 : 8)) {
      case 0: return null;
      case 1: return this.int(100_000) - 50;
      case 2: return this.pick(['', 'x', 'true', '80', 'http', '*', '(', '1.5s', '-1', 'None', 'UDP']);
      case 3: return this.chance(0.5);
      case 4: return 3.25;
      case 5: return undefined;
      case 6: return Array.from({ length: this.int(3) }, () => this.junk(depth + 1));
      default: return Object.fromEntries(Array.from({ length: this.int(3) }, () => [this.pick(['name', 'port', 'ip', 'kind', 'weight', 'x']), this.junk(depth + 1)]));
    }
  }

  /** `value`, or (sometimes) junk instead. */
  maybe<T>(value: T, p = 0.04): unknown { return this.chance(p) ? this.junk() : value; }

  name(prefix: string): string { return `${prefix}-${this.int(3)}`; }
  ns(): string { return this.pick(['shop', 'shop', 'shop', 'tools']); }
  ip(): string { return `10.0.${this.int(3)}.${this.int(8)}`; }

  meta(prefix: string, extra: Record<string, unknown> = {}): unknown {
    return this.maybe({ name: this.maybe(this.name(prefix), 0.03), namespace: this.maybe(this.ns(), 0.03), ...extra }, 0.03);
  }

  annotations(): unknown {
    const entries: [string, unknown][] = [];
    if (this.chance(0.8)) entries.push(['plexus.dev/mesh', this.maybe(this.pick(['true', 'true', 'true', 'false', 'yes']))]);
    const keys = ['traffic-type', 'scheme', 'retry-attempts', 'timeout', 'load-balancer', 'circuit-breaker-consecutive-errors',
      'circuit-breaker-ejection', 'rate-limit-average', 'rate-limit-burst', 'retires'];
    for (let i = this.int(4); i > 0; i--) entries.push([`plexus.dev/${this.pick(keys)}`, this.pick(['tcp', 'udp', 'http', 'h2c', '3', '11', '2s', 'x', '0', '1.5', 'least-request'])]);
    return this.maybe(Object.fromEntries(entries), 0.05);
  }

  port(): unknown {
    return this.maybe({ name: this.pick(['http', 'http', 'grpc', '']), port: this.maybe(this.pick([80, 8080, 53, 5432])), protocol: this.maybe(this.pick(['TCP', 'TCP', 'TCP', 'UDP', 'SCTP'])), targetPort: this.pick([8080, 'web', undefined]) });
  }

  service(): RawObject {
    return {
      apiVersion: 'v1', kind: 'Service', metadata: this.meta('svc', { annotations: this.annotations() }),
      spec: this.maybe({
        clusterIP: this.pick(['10.96.0.1', '10.96.0.1', 'None', undefined]), type: this.pick(['ClusterIP', 'ClusterIP', 'ExternalName', undefined]),
        selector: this.maybe({ app: this.name('app') }), ports: this.maybe(Array.from({ length: 1 + this.int(2) }, () => this.port())),
      }, 0.05),
    };
  }

  endpoint(): unknown {
    return this.maybe({
      addresses: this.maybe([this.ip()]),
      conditions: this.maybe({ ready: this.pick([true, false, undefined]), terminating: this.pick([true, undefined]) }),
      nodeName: this.pick(['node-a', 'node-b', undefined]),
      targetRef: this.maybe(this.chance(0.6) ? { kind: 'Pod', name: this.name('pod') } : undefined),
    });
  }

  slice(): RawObject {
    return {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: this.meta('slice', { labels: this.maybe({ 'kubernetes.io/service-name': this.name('svc') }) }),
      addressType: this.pick(['IPv4', 'IPv4', 'FQDN']),
      ports: this.maybe([this.port()]),
      endpoints: this.maybe(Array.from({ length: this.int(4) }, () => this.endpoint())),
    };
  }

  legacyEndpoints(): RawObject {
    return {
      apiVersion: 'v1', kind: 'Endpoints', metadata: this.meta('svc'),
      subsets: this.maybe([{ addresses: this.maybe([{ ip: this.maybe(this.ip()) }]), notReadyAddresses: this.maybe([{ ip: this.ip() }]), ports: this.maybe([this.port()]) }]),
    };
  }

  pod(): RawObject {
    return {
      apiVersion: 'v1', kind: 'Pod', metadata: this.meta('pod', { labels: this.maybe({ app: this.name('app') }) }),
      spec: this.maybe({ serviceAccountName: this.maybe(this.name('sa')), nodeName: this.pick(['node-a', 'node-b', undefined]), hostNetwork: this.chance(0.1), containers: this.maybe([{ ports: this.maybe([{ name: 'web', containerPort: this.maybe(3000) }]) }]) }),
      status: this.maybe({ podIP: this.maybe(this.ip()), phase: this.pick(['Running', 'Pending', 'Failed']), conditions: this.maybe([{ type: 'Ready', status: this.pick(['True', 'False']) }]) }),
    };
  }

  smi(): RawObject {
    switch (this.int(6)) {
      case 0: case 4: return {
        apiVersion: this.pick(['split.smi-spec.io/v1alpha1', 'split.smi-spec.io/v1alpha4', 'split.smi-spec.io/v1alpha4', 'split.smi-spec.io/v1alpha4', 'split.smi-spec.io/v9']), kind: 'TrafficSplit', metadata: this.meta('split', { creationTimestamp: this.pick(['2026-01-01T00:00:00Z', undefined]) }),
        spec: this.maybe({ service: this.maybe(this.name('svc')), backends: this.maybe([{ service: this.name('svc'), weight: this.maybe(this.pick([0, 10, 90])) }, { service: this.name('svc'), weight: this.maybe(this.pick([0, 1, 5])) }]), matches: this.chance(0.3) ? [{ kind: 'HTTPRouteGroup', name: this.name('routes') }] : undefined }),
      };
      case 1: return {
        apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: this.meta('routes'),
        spec: this.maybe({ matches: this.maybe([{ name: this.pick(['read', 'write']), pathRegex: this.maybe(this.pick(['/api', '(', '/'])), methods: this.maybe(['GET']), headers: this.maybe({ 'user-agent': '.*' }) }]) }),
      };
      case 2: return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: this.pick(['TCPRoute', 'UDPRoute']), metadata: this.meta('l4'), spec: this.maybe({ matches: this.maybe({ ports: this.maybe([this.pick([80, 5432, 53])]) }) }) };
      default: return {
        apiVersion: this.pick(['access.smi-spec.io/v1alpha2', 'access.smi-spec.io/v1alpha3']), kind: 'TrafficTarget', metadata: this.meta('tt'),
        spec: this.maybe({
          destination: this.maybe({ kind: 'ServiceAccount', name: this.name('sa'), namespace: this.pick([undefined, 'shop']), port: this.pick([undefined, 8080]) }),
          rules: this.maybe([{ kind: this.pick(['HTTPRouteGroup', 'TCPRoute', 'UDPRoute', 'Nope']), name: this.pick([this.name('routes'), this.name('l4')]), matches: this.pick([undefined, ['read'], ['missing']]) }]),
          sources: this.maybe([{ kind: 'ServiceAccount', name: this.name('sa'), namespace: this.ns() }]),
        }),
      };
    }
  }

  /** A well-formed object of a small coherent cluster (names from small pools). */
  template(): RawObject {
    const n = this.int(3);
    switch (this.int(10)) {
      case 0: return service(`svc-${n}`, { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'pg', port: 5432 }] });
      case 1: return slice(`svc-${n}`, [{ ip: `10.0.0.${n}`, pod: `pod-${n}` }, { ip: `10.0.1.${n}`, ready: false }], { ports: [{ name: 'http', port: 8080 }, { name: 'pg', port: 5432 }] });
      case 2: return pod(`pod-${n}`, { ip: `10.0.0.${n}`, serviceAccount: `sa-${this.int(2)}`, nodeName: this.pick(['node-a', 'node-b']), labels: { app: `svc-${n}` } });
      case 3: return trafficSplit(`split-${n}`, `svc-${n}`, [{ service: `svc-${this.int(3)}`, weight: this.int(3) * 50 }, { service: `svc-${this.int(4)}`, weight: 50 }], this.chance(0.3) ? { matches: [`routes-${this.int(2)}`] } : {});
      case 4: return routeGroup(`routes-${n}`, [{ name: 'read', pathRegex: '/api', methods: ['GET'] }, { name: 'write', methods: ['POST'] }]);
      case 5: return tcpRoute(`l4-${n}`, this.pick([[], [5432], [8080]]));
      case 6: return namespace('shop', { 'plexus.dev/mesh': 'true' });
      default: return trafficTarget(`tt-${n}`, `sa-${this.int(2)}`, [`sa-${this.int(2)}`], this.pick([
        [{ kind: 'HTTPRouteGroup', name: `routes-${this.int(3)}`, matches: this.pick([[], ['read'], ['nope']]) }],
        [{ kind: 'TCPRoute', name: `l4-${this.int(3)}` }],
      ]));
    }
  }

  /** A copy of `value` with one field somewhere replaced by junk (or removed). */
  mutate(value: unknown): unknown {
    if (Array.isArray(value)) {
      if (value.length === 0 || this.chance(0.2)) return this.junk();
      const i = this.int(value.length);
      return value.map((item, j) => (j === i ? this.mutate(item) : item));
    }
    if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      if (keys.length === 0 || this.chance(0.2)) return this.junk();
      const key = this.pick(keys);
      const copy: Record<string, unknown> = { ...value };
      if (this.chance(0.2)) delete copy[key];
      else copy[key] = this.mutate(copy[key]);
      return copy;
    }
    return this.junk();
  }

  object(): RawObject {
    if (this.chance(0.6)) {
      const template = this.template();
      return this.chance(0.3) ? { ...(this.mutate(template) as object), kind: template.kind } : template;
    }
    switch (this.int(10)) {
      case 0: case 1: return this.service();
      case 2: case 3: return this.slice();
      case 4: return this.legacyEndpoints();
      case 5: return this.pod();
      case 6: return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.ns(), annotations: this.annotations() } };
      case 7: return { apiVersion: this.pick(['v1', 'apps/v1', 42]), kind: this.pick(['ConfigMap', 'Deployment', undefined, 7]), metadata: this.junk() };
      default: return this.smi();
    }
  }
}

const OPTIONS: CompileOptions = { nodeName: 'node-a', meshDomain: 'plexus', listenerPorts: { min: 20000, max: 20010 }, vipCidr: '127.77.0.0/29' };
const CASES = 300;

function locate(objects: readonly RawObject[]): Map<RawObject, SourceLocation> {
  return new Map(objects.map((o, i) => [o, { file: `gen/${i % 7}.yaml`, line: i + 1 }]));
}

describe('routing: generated input', () => {
  it(`compiles ${CASES} random clusters without throwing; every problem is located`, () => {
    const gen = new Gen(prng(20261123));
    let problems = 0;
    const reached = { services: 0, splits: 0, access: 0, identities: 0 };
    for (let c = 0; c < CASES; c++) {
      const objects = Array.from({ length: 5 + gen.int(30) }, () => gen.object());
      const options = { ...OPTIONS, deriveEndpointsFromPods: gen.chance(0.5) };
      const config = compile({ objects, sources: locate(objects) }, options);
      expect(() => JSON.stringify(config), `case ${c}`).not.to.throw();
      for (const p of config.problems) {
        const where = `case ${c}: ${JSON.stringify(p)}`;
        expect(p.kind, where).to.be.a('string').and.not.equal('');
        expect(p.name, where).to.be.a('string').and.not.equal('');
        expect(p.message, where).to.be.a('string').and.not.equal('');
        if (p.kind !== 'Option') expect(p.source, where).to.be.an('object');
      }
      problems += config.problems.length;
      reached.services += config.services.length;
      reached.identities += config.identities.length;
      for (const port of config.services.flatMap((s) => s.ports)) {
        if (port.destination.split || port.rules.length > 0) reached.splits++;
        reached.access += port.access.length;
      }
    }
    expect(problems).to.be.greaterThan(CASES);
    // The generator must reach every stage, not only the readers.
    for (const [stage, count] of Object.entries(reached)) expect(count, `${stage} in ${JSON.stringify(reached)}`).to.be.greaterThan(10);
  });

  it('gives the same config from a remembering Compiler as from a fresh compile, change after change', () => {
    const gen = new Gen(prng(7));
    for (let run = 0; run < 20; run++) {
      const compiler = new Compiler();
      let objects = Array.from({ length: 40 }, () => gen.object());
      let previous = compiler.compile({ objects, sources: locate(objects) }, OPTIONS);
      for (let step = 0; step < 15; step++) {
        // Replace, add or drop a few objects; the rest stay the same references.
        objects = objects.filter(() => !gen.chance(0.05)).map((o) => (gen.chance(0.1) ? gen.object() : o));
        for (let i = gen.int(3); i > 0; i--) objects.push(gen.object());
        const options = { ...OPTIONS, previous: previous.allocation, deriveEndpointsFromPods: run % 2 === 0 };
        const sources = locate(objects);
        const remembered = compiler.compile({ objects, sources }, options);
        const fresh = compile({ objects, sources }, options);
        expect(remembered, `run ${run} step ${step}`).to.deep.equal(fresh);
        previous = remembered;
      }
    }
  });

  it('gives the same config as a fresh compile when objects are replaced in place (the patched catalog)', () => {
    // Same length, objects replaced at their positions: the Compiler patches its catalog when
    // kinds and keys stay, and must rebuild it when they do not (or when there are duplicates).
    const gen = new Gen(prng(11));
    for (let run = 0; run < 20; run++) {
      const compiler = new Compiler();
      const objects = Array.from({ length: 40 }, () => gen.object());
      let previous = compiler.compile({ objects, sources: locate(objects) }, OPTIONS);
      for (let step = 0; step < 15; step++) {
        for (let i = 0; i < objects.length; i++) {
          if (!gen.chance(0.08)) continue;
          const old = objects[i]!;
          const fresh = gen.object();
          // Mostly the same kind and name with new content; sometimes anything, or a copy of another object.
          objects[i] = gen.chance(0.7) ? { ...fresh, apiVersion: old.apiVersion, kind: old.kind, metadata: old.metadata }
            : gen.chance(0.5) ? fresh : structuredClone(objects[gen.int(objects.length)]!);
        }
        const options = { ...OPTIONS, previous: previous.allocation, deriveEndpointsFromPods: run % 2 === 0 };
        const sources = locate(objects);
        const remembered = compiler.compile({ objects, sources }, options);
        expect(remembered, `run ${run} step ${step}`).to.deep.equal(compile({ objects, sources }, options));
        previous = remembered;
      }
    }
  });
});
