import { expect } from 'chai';
import type { RawObject } from '../../../src/model/snapshot.js';
import {
  compileObjects, findPort, pod, problemsOf, routeGroup, service, slice, tcpRoute, trafficSplit, trafficTarget, udpRoute,
} from './builders.js';

/** web (http :80 → 8080) and db (tcp :5432) and dns (udp :53), each behind one pod with its own ServiceAccount. */
const cluster: RawObject[] = [
  service('web'),
  slice('web', [{ ip: '10.0.0.1', pod: 'web-1' }]),
  pod('web-1', { ip: '10.0.0.1', serviceAccount: 'web' }),
  service('db', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/traffic-type': 'tcp' }, ports: [{ name: 'pg', port: 5432 }] }),
  slice('db', [{ ip: '10.0.0.2', pod: 'db-1' }], { ports: [{ name: 'pg', port: 5432 }] }),
  pod('db-1', { ip: '10.0.0.2', serviceAccount: 'db' }),
  service('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
  slice('dns', [{ ip: '10.0.0.3', pod: 'dns-1' }], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
  pod('dns-1', { ip: '10.0.0.3', serviceAccount: 'dns' }),
  routeGroup('web-routes', [{ name: 'read', pathRegex: '/api', methods: ['GET'] }, { name: 'write', pathRegex: '/api', methods: ['POST'] }]),
];

describe('routing: access rules from TrafficTargets', () => {
  it('grants the HTTPRouteGroup matches named by the rule on the ports behind the destination ServiceAccount', () => {
    const config = compileObjects([...cluster, trafficTarget('web-read', 'web', ['frontend', 'other/cli'], [{ kind: 'HTTPRouteGroup', name: 'web-routes', matches: ['read'] }])]);
    expect(findPort(config, 'shop/web').access).to.deep.equal([{
      trafficTarget: 'shop/web-read',
      sources: ['other/cli', 'shop/frontend'],
      http: [{ name: 'read', pathRegex: '/api', methods: ['GET'], headers: [] }],
    }]);
    expect(findPort(config, 'shop/db', 5432).access).to.deep.equal([]);
    expect(config.problems).to.deep.equal([]);
  });

  it('grants every match of a group when the rule names none', () => {
    const config = compileObjects([...cluster, trafficTarget('t', 'web', ['frontend'], [{ kind: 'HTTPRouteGroup', name: 'web-routes' }])]);
    expect(findPort(config, 'shop/web').access[0]!.http!.map((m) => m.name)).to.deep.equal(['read', 'write']);
  });

  it('skips a rule naming a missing group or match, with a problem', () => {
    const config = compileObjects([...cluster, trafficTarget('t', 'web', ['frontend'], [
      { kind: 'HTTPRouteGroup', name: 'nope' },
      { kind: 'HTTPRouteGroup', name: 'web-routes', matches: ['delete'] },
    ])]);
    expect(findPort(config, 'shop/web').access).to.deep.equal([]);
    expect(problemsOf(config, 'TrafficTarget', 't')).to.deep.equal([
      'HTTPRouteGroup shop/nope is missing or invalid (rule skipped)',
      'HTTPRouteGroup shop/web-routes has no match named delete (rule skipped)',
    ]);
  });

  it('grants whole connections on TCP ports listed by a TCPRoute (Service or target port)', () => {
    const config = compileObjects([
      ...cluster,
      tcpRoute('pg', [5432]), tcpRoute('web-target', [8080]), tcpRoute('other', [1234]),
      trafficTarget('db-t', 'db', ['web'], [{ kind: 'TCPRoute', name: 'pg' }]),
      trafficTarget('web-t', 'web', ['frontend'], [{ kind: 'TCPRoute', name: 'web-target' }]),
      trafficTarget('nothing', 'db', ['web'], [{ kind: 'TCPRoute', name: 'other' }]),
    ]);
    expect(findPort(config, 'shop/db', 5432).access).to.deep.equal([{ trafficTarget: 'shop/db-t', sources: ['shop/web'], http: null }]);
    expect(findPort(config, 'shop/web').access).to.deep.equal([{ trafficTarget: 'shop/web-t', sources: ['shop/frontend'], http: null }]);
  });

  it('grants UDP ports with a UDPRoute only', () => {
    const config = compileObjects([
      ...cluster, udpRoute('dns', []), tcpRoute('all-tcp', []),
      trafficTarget('by-udp', 'dns', ['web'], [{ kind: 'UDPRoute', name: 'dns' }]),
      trafficTarget('by-tcp', 'dns', ['web'], [{ kind: 'TCPRoute', name: 'all-tcp' }]),
    ]);
    expect(findPort(config, 'shop/dns', 53).access.map((a) => a.trafficTarget)).to.deep.equal(['shop/by-udp']);
  });

  it('does not grant HTTPRouteGroup rules on tcp ports', () => {
    const config = compileObjects([...cluster, trafficTarget('t', 'db', ['web'], [{ kind: 'HTTPRouteGroup', name: 'web-routes' }])]);
    expect(findPort(config, 'shop/db', 5432).access).to.deep.equal([]);
  });

  it('reports a missing TCPRoute', () => {
    const config = compileObjects([...cluster, trafficTarget('t', 'db', ['web'], [{ kind: 'TCPRoute', name: 'missing' }])]);
    expect(problemsOf(config, 'TrafficTarget', 't')).to.deep.equal(['TCPRoute shop/missing is missing or invalid (rule skipped)']);
  });

  it('grants everything for a v1alpha2 TrafficTarget without specs, filtered by destination.port', () => {
    const v1alpha2 = (name: string, port?: number): RawObject => ({
      apiVersion: 'access.smi-spec.io/v1alpha2', kind: 'TrafficTarget', metadata: { name, namespace: 'shop' },
      spec: {
        destination: { kind: 'ServiceAccount', name: 'web', namespace: 'shop', ...(port ? { port } : {}) },
        sources: [{ kind: 'ServiceAccount', name: 'frontend', namespace: 'shop' }],
      },
    });
    const config = compileObjects([
      ...cluster.slice(2),
      service('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 81, targetPort: 9000 }] }),
      slice('web', [{ ip: '10.0.0.1', pod: 'web-1' }], { ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9000 }] }),
      v1alpha2('all'), v1alpha2('target-port', 8080), v1alpha2('service-port', 81), v1alpha2('no-port', 7777),
    ]);
    expect(findPort(config, 'shop/web', 80).access.map((a) => [a.trafficTarget, a.http])).to.deep.equal([['shop/all', null], ['shop/target-port', null]]);
    expect(findPort(config, 'shop/web', 81).access.map((a) => [a.trafficTarget, a.http])).to.deep.equal([['shop/all', null], ['shop/service-port', null]]);
  });

  it('applies to the ServiceAccounts of split backends too', () => {
    const config = compileObjects([
      ...cluster,
      service('web-v2', { annotations: {} }),
      slice('web-v2', [{ ip: '10.0.0.9', pod: 'web-v2-1' }]),
      pod('web-v2-1', { ip: '10.0.0.9', serviceAccount: 'web-v2' }),
      trafficSplit('s', 'web', [{ service: 'web-v2', weight: 1 }]),
      trafficTarget('v2', 'web-v2', ['frontend'], [{ kind: 'HTTPRouteGroup', name: 'web-routes' }]),
      trafficTarget('v1', 'web', ['frontend'], [{ kind: 'HTTPRouteGroup', name: 'web-routes' }]),
    ]);
    expect(findPort(config, 'shop/web').access.map((a) => a.trafficTarget)).to.deep.equal(['shop/v1', 'shop/v2']);
  });

  it('merges HTTP grants and lets a TCPRoute widen them to every request', () => {
    const config = compileObjects([...cluster, tcpRoute('all', []), trafficTarget('t', 'web', ['frontend'], [
      { kind: 'HTTPRouteGroup', name: 'web-routes', matches: ['read'] },
      { kind: 'TCPRoute', name: 'all' },
    ])]);
    expect(findPort(config, 'shop/web').access).to.deep.equal([{ trafficTarget: 'shop/t', sources: ['shop/frontend'], http: null }]);
  });
});
