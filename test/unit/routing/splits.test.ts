import { expect } from 'chai';
import type { BackendsDestination, Destination } from '../../../src/routing/mesh-config.js';
import { compileObjects, findPort, problemsOf, routeGroup, service, slice, trafficSplit } from './builders.js';

function backends(destination: Destination): BackendsDestination {
  if (destination.kind !== 'backends') throw new Error(`reject: ${destination.reason}`);
  return destination;
}

const cluster = [
  service('web'),
  service('web-v1', { annotations: {} }),
  service('web-v2', { annotations: {}, ports: [{ name: 'http', port: 80, targetPort: 9090 }] }),
  slice('web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]),
  slice('web-v1', [{ ip: '10.0.0.1' }]),
  slice('web-v2', [{ ip: '10.0.0.2' }], { ports: [{ name: 'http', port: 9090 }] }),
];

describe('routing: TrafficSplit', () => {
  it('splits the root port over the backends, straight to their endpoints', () => {
    const config = compileObjects([...cluster, trafficSplit('web-split', 'web', [{ service: 'web-v1', weight: 90 }, { service: 'web-v2', weight: 10 }])]);
    const port = findPort(config, 'shop/web');
    expect(port.rules).to.deep.equal([]);
    const destination = backends(port.destination);
    expect(destination.split).to.equal('shop/web-split');
    expect(destination.backends.map((b) => [b.service, b.weight, b.endpoints.map((e) => `${e.ip}:${e.port}`)])).to.deep.equal([
      ['shop/web-v1', 90, ['10.0.0.1:8080']],
      ['shop/web-v2', 10, ['10.0.0.2:9090']],
    ]);
    expect(config.problems).to.deep.equal([]);
  });

  it('converts v1alpha1 quantity weights to milli-units', () => {
    const config = compileObjects([...cluster, trafficSplit('s', 'web', [{ service: 'web-v1', weight: '1' }, { service: 'web-v2', weight: '500m' }], { apiVersion: 'split.smi-spec.io/v1alpha1' })]);
    expect(backends(findPort(config, 'shop/web').destination).backends.map((b) => b.weight)).to.deep.equal([1000, 500]);
  });

  it('drops a missing backend with a problem and keeps the rest', () => {
    const config = compileObjects([...cluster, trafficSplit('s', 'web', [{ service: 'web-v1', weight: 50 }, { service: 'web-v3', weight: 50 }])]);
    expect(backends(findPort(config, 'shop/web').destination).backends.map((b) => b.service)).to.deep.equal(['shop/web-v1']);
    expect(problemsOf(config, 'TrafficSplit', 's')).to.deep.equal(['backend Service shop/web-v3 does not exist (dropped)']);
  });

  it('drops a backend without the root port number', () => {
    const config = compileObjects([
      ...cluster,
      service('web-v3', { annotations: {}, ports: [{ name: 'http', port: 8080 }] }),
      trafficSplit('s', 'web', [{ service: 'web-v1', weight: 1 }, { service: 'web-v3', weight: 1 }]),
    ]);
    expect(backends(findPort(config, 'shop/web').destination).backends.map((b) => b.service)).to.deep.equal(['shop/web-v1']);
    expect(problemsOf(config, 'TrafficSplit', 's')).to.deep.equal(['backend Service shop/web-v3 has no port 80/TCP (dropped for that port)']);
  });

  it('drops an ExternalName backend: it has no endpoints', () => {
    const config = compileObjects([...cluster, service('web-ext', { annotations: {}, type: 'ExternalName' }), trafficSplit('s', 'web', [{ service: 'web-v1', weight: 1 }, { service: 'web-ext', weight: 1 }])]);
    expect(backends(findPort(config, 'shop/web').destination).backends.map((b) => b.service)).to.deep.equal(['shop/web-v1']);
    expect(problemsOf(config, 'TrafficSplit', 's')).to.deep.equal(['backend Service shop/web-ext is an ExternalName Service without endpoints (dropped)']);
  });

  it('splits udp ports too, matching the backend port by number and protocol', () => {
    const config = compileObjects([
      service('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      service('dns-v2', { annotations: {}, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      service('dns-tcp', { annotations: {}, ports: [{ name: 'dns', port: 53 }] }),
      slice('dns-v2', [{ ip: '10.0.0.53' }], { ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] }),
      trafficSplit('s', 'dns', [{ service: 'dns-v2', weight: 1 }, { service: 'dns-tcp', weight: 1 }]),
    ]);
    const destination = backends(findPort(config, 'shop/dns', 53).destination);
    expect(destination.backends.map((b) => [b.service, b.endpoints.map((e) => `${e.ip}:${e.port}`)])).to.deep.equal([['shop/dns-v2', ['10.0.0.53:5353']]]);
    expect(problemsOf(config, 'TrafficSplit', 's')).to.deep.equal(['backend Service shop/dns-tcp has no port 53/UDP (dropped for that port)']);
  });

  it('answers 503 when every weight is zero or no backend is left', () => {
    const zero = compileObjects([...cluster, trafficSplit('s', 'web', [{ service: 'web-v1', weight: 0 }, { service: 'web-v2', weight: 0 }])]);
    expect(findPort(zero, 'shop/web').destination).to.deep.equal({ kind: 'reject', split: 'shop/s', status: 503, reason: 'every backend of TrafficSplit shop/s has weight 0' });
    const none = compileObjects([...cluster, trafficSplit('s', 'web', [{ service: 'nope', weight: 1 }])]);
    expect(findPort(none, 'shop/web').destination).to.include({ kind: 'reject', status: 503 });
  });

  it('keeps weight-0 backends for visibility', () => {
    const config = compileObjects([...cluster, trafficSplit('s', 'web', [{ service: 'web-v1', weight: 0 }, { service: 'web-v2', weight: 100 }])]);
    expect(backends(findPort(config, 'shop/web').destination).backends.map((b) => b.weight)).to.deep.equal([0, 100]);
  });

  it('resolves the root as a backend to its own endpoints, with a warning', () => {
    const config = compileObjects([...cluster, trafficSplit('s', 'web', [{ service: 'web', weight: 9 }, { service: 'web-v2', weight: 1 }])]);
    const first = backends(findPort(config, 'shop/web').destination).backends[0]!;
    expect([first.service, first.endpoints.length]).to.deep.equal(['shop/web', 2]);
    expect(config.problems.map((p) => [p.name, p.severity, p.message])).to.deep.equal([
      ['s', 'warning', 'backend web is the root Service itself (its own endpoints are used)'],
    ]);
  });

  it('ignores a split whose root is missing or not meshed', () => {
    const config = compileObjects([
      ...cluster,
      trafficSplit('to-nothing', 'nothing', [{ service: 'web-v1', weight: 1 }]),
      trafficSplit('to-unmeshed', 'web-v1', [{ service: 'web-v2', weight: 1 }]),
    ]);
    expect(problemsOf(config, 'TrafficSplit', 'to-nothing')).to.deep.equal(['root Service shop/nothing does not exist (split ignored)']);
    expect(problemsOf(config, 'TrafficSplit', 'to-unmeshed')).to.deep.equal(['root Service shop/web-v1 is not meshed (split ignored)']);
  });

  it('applies the oldest of several splits for one root (then by name) and reports the others', () => {
    const config = compileObjects([
      ...cluster,
      trafficSplit('b-new', 'web', [{ service: 'web-v2', weight: 1 }], { creationTimestamp: '2026-02-01T00:00:00Z' }),
      trafficSplit('c-old', 'web', [{ service: 'web-v1', weight: 1 }], { creationTimestamp: '2026-01-01T00:00:00Z' }),
      trafficSplit('a-undated', 'web', [{ service: 'web-v1', weight: 1 }]),
    ]);
    expect(backends(findPort(config, 'shop/web').destination).split).to.equal('shop/c-old');
    expect(config.problems.map((p) => p.name)).to.deep.equal(['a-undated', 'b-new']);
    expect(problemsOf(config, 'TrafficSplit', 'b-new')).to.deep.equal(['TrafficSplit shop/c-old (older) already splits Service shop/web (ignored)']);
  });

  describe('matches', () => {
    const firefox = routeGroup('firefox', [{ name: 'ff', headers: [{ 'user-agent': '.*Firefox.*' }] }]);
    const api = routeGroup('api', [{ name: 'api', pathRegex: '/api', methods: ['GET'] }]);

    it('splits only matching requests; the rest go to the root Service', () => {
      const config = compileObjects([...cluster, firefox, api, trafficSplit('ab', 'web', [{ service: 'web-v1', weight: 0 }, { service: 'web-v2', weight: 100 }], { matches: ['firefox', 'api'] })]);
      const port = findPort(config, 'shop/web');
      expect(backends(port.destination)).to.deep.include({ split: null });
      expect(backends(port.destination).backends.map((b) => b.service)).to.deep.equal(['shop/web']);
      expect(port.rules).to.have.length(1);
      expect(port.rules[0]!.matches).to.deep.equal([
        { name: 'ff', pathRegex: null, methods: [], headers: [{ name: 'user-agent', valueRegex: '.*Firefox.*' }] },
        { name: 'api', pathRegex: '/api', methods: ['GET'], headers: [] },
      ]);
      expect(backends(port.rules[0]!.destination).split).to.equal('shop/ab');
      expect(config.problems).to.deep.equal([]);
    });

    it('does not apply a split naming a missing HTTPRouteGroup', () => {
      const config = compileObjects([...cluster, trafficSplit('ab', 'web', [{ service: 'web-v2', weight: 1 }], { matches: ['nope'] })]);
      const port = findPort(config, 'shop/web');
      expect(port.rules).to.deep.equal([]);
      expect(backends(port.destination).split).to.equal(null);
      expect(problemsOf(config, 'TrafficSplit', 'ab')).to.deep.equal(['HTTPRouteGroup shop/nope is missing or invalid (split not applied)']);
    });

    it('applies to tcp ports only without matches', () => {
      const tcp = [
        service('db', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/traffic-type': 'tcp' }, ports: [{ port: 5432 }] }),
        service('db-v2', { annotations: {}, ports: [{ port: 5432 }] }),
      ];
      const plain = compileObjects([...tcp, trafficSplit('s', 'db', [{ service: 'db-v2', weight: 1 }])]);
      expect(backends(findPort(plain, 'shop/db', 5432).destination).split).to.equal('shop/s');
      const matched = compileObjects([...tcp, firefox, trafficSplit('s', 'db', [{ service: 'db-v2', weight: 1 }], { matches: ['firefox'] })]);
      const port = findPort(matched, 'shop/db', 5432);
      expect([port.rules.length, backends(port.destination).split]).to.deep.equal([0, null]);
      expect(problemsOf(matched, 'TrafficSplit', 's')).to.deep.equal(['matches apply to HTTP only: tcp port 5432/TCP of shop/db is not split']);
    });
  });
});
