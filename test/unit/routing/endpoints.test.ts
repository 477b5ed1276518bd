import { expect } from 'chai';
import type { Destination, Endpoint } from '../../../src/routing/mesh-config.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { compileObjects, findPort, pod, service, slice } from './builders.js';

function endpointsOf(destination: Destination): readonly Endpoint[] {
  if (destination.kind !== 'backends') throw new Error('reject destination');
  return destination.backends.flatMap((b) => b.endpoints);
}

function rootEndpoints(objects: RawObject[], options = {}, port = 80): readonly Endpoint[] {
  return endpointsOf(findPort(compileObjects(objects, options), 'shop/web', port).destination);
}

describe('routing: endpoints', () => {
  it('reads EndpointSlice conditions with the Kubernetes defaults', () => {
    const endpoints = rootEndpoints([
      service('web'),
      slice('web', [
        { ip: '10.0.0.1' },
        { ip: '10.0.0.2', ready: false },
        { ip: '10.0.0.3', ready: false, serving: true, terminating: true },
      ]),
    ]);
    expect(endpoints.map((e) => [e.ip, e.port, e.ready, e.serving, e.terminating])).to.deep.equal([
      ['10.0.0.1', 8080, true, true, false],
      ['10.0.0.2', 8080, false, false, false],
      ['10.0.0.3', 8080, false, true, true],
    ]);
  });

  it('picks the slice port by the Service port name and sorts endpoints by ip:port', () => {
    const endpoints = rootEndpoints([
      service('web', { ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 81 }] }),
      slice('web', [{ ip: '10.0.0.10' }, { ip: '10.0.0.9' }], { ports: [{ name: 'admin', port: 9000 }, { name: 'http', port: 8080 }] }),
      slice('web', [{ ip: '10.0.0.2' }], { name: 'web-second', ports: [{ name: 'http', port: 8081 }] }),
    ]);
    expect(endpoints.map((e) => `${e.ip}:${e.port}`)).to.deep.equal(['10.0.0.2:8081', '10.0.0.9:8080', '10.0.0.10:8080']);
  });

  it('keeps one endpoint per ip:port, preferring a ready one (slices overlap while they move)', () => {
    const endpoints = rootEndpoints([
      service('web'),
      slice('web', [{ ip: '10.0.0.1', ready: false }, { ip: '10.0.0.2' }]),
      slice('web', [{ ip: '10.0.0.1' }], { name: 'web-new' }),
    ]);
    expect(endpoints.map((e) => [e.ip, e.ready])).to.deep.equal([['10.0.0.1', true], ['10.0.0.2', true]]);
  });

  it('reads legacy Endpoints: addresses ready, notReadyAddresses not', () => {
    const endpoints = rootEndpoints([
      service('web'),
      {
        apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'shop' },
        subsets: [{
          addresses: [{ ip: '10.0.0.1', nodeName: 'node-a', targetRef: { kind: 'Pod', name: 'web-1' } }],
          notReadyAddresses: [{ ip: '10.0.0.2' }],
          ports: [{ name: 'http', port: 8080 }],
        }],
      },
    ]);
    expect(endpoints).to.deep.equal([
      { ip: '10.0.0.1', port: 8080, ready: true, serving: true, terminating: false, nodeName: 'node-a', pod: 'shop/web-1', serviceAccount: null },
      { ip: '10.0.0.2', port: 8080, ready: false, serving: false, terminating: false, nodeName: null, pod: null, serviceAccount: null },
    ]);
  });

  it('prefers EndpointSlices over legacy Endpoints for the same Service', () => {
    const endpoints = rootEndpoints([
      service('web'),
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'shop' }, subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ name: 'http', port: 8080 }] }] },
      slice('web', [{ ip: '10.0.0.1' }]),
    ]);
    expect(endpoints.map((e) => e.ip)).to.deep.equal(['10.0.0.1']);
  });

  it('adds the ServiceAccount of the pod named by targetRef, or found by IP', () => {
    const endpoints = rootEndpoints([
      service('web'),
      slice('web', [{ ip: '10.0.0.1', pod: 'web-1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3', pod: 'gone' }]),
      pod('web-1', { ip: '10.0.0.1', serviceAccount: 'web-sa', nodeName: 'node-b' }),
      pod('web-2', { ip: '10.0.0.2' }),
    ]);
    expect(endpoints.map((e) => [e.ip, e.pod, e.serviceAccount, e.nodeName])).to.deep.equal([
      ['10.0.0.1', 'shop/web-1', 'web-sa', 'node-b'],
      ['10.0.0.2', 'shop/web-2', 'default', null],
      ['10.0.0.3', 'shop/gone', null, null],
    ]);
  });

  describe('derived from Pods (deriveEndpointsFromPods)', () => {
    const pods = [
      pod('web-1', { ip: '10.0.0.1', labels: { app: 'web' }, serviceAccount: 'web' }),
      pod('web-2', { ip: '10.0.0.2', labels: { app: 'web' }, ready: false }),
      pod('web-3', { ip: '10.0.0.3', labels: { app: 'web' }, deleting: true }),
      pod('web-4', { ip: '10.0.0.4', labels: { app: 'web' }, phase: 'Succeeded' }),
      pod('web-5', { labels: { app: 'web' } }),
      pod('db-1', { ip: '10.0.0.9', labels: { app: 'db' } }),
      pod('web-x', { namespace: 'other', ip: '10.0.1.1', labels: { app: 'web' } }),
    ];

    it('takes matching, running pods with an IP, with their readiness', () => {
      const endpoints = rootEndpoints([service('web'), ...pods], { deriveEndpointsFromPods: true });
      expect(endpoints.map((e) => [e.ip, e.port, e.ready, e.serving, e.terminating, e.serviceAccount])).to.deep.equal([
        ['10.0.0.1', 8080, true, true, false, 'web'],
        ['10.0.0.2', 8080, false, false, false, 'default'],
        ['10.0.0.3', 8080, false, true, true, 'default'],
      ]);
    });

    it('does nothing without the option, or when the Service has an EndpointSlice', () => {
      expect(rootEndpoints([service('web'), ...pods])).to.deep.equal([]);
      const withSlice = rootEndpoints([service('web'), slice('web', [{ ip: '10.5.5.5' }]), ...pods], { deriveEndpointsFromPods: true });
      expect(withSlice.map((e) => e.ip)).to.deep.equal(['10.5.5.5']);
    });

    it('resolves a named targetPort through the container ports, and no targetPort to the port', () => {
      const objects = [
        service('web', { ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'raw', port: 81 }] }),
        pod('web-1', { ip: '10.0.0.1', labels: { app: 'web' }, containerPorts: [{ name: 'web', containerPort: 3000 }] }),
        pod('web-2', { ip: '10.0.0.2', labels: { app: 'web' } }),
      ];
      expect(rootEndpoints(objects, { deriveEndpointsFromPods: true }).map((e) => `${e.ip}:${e.port}`)).to.deep.equal(['10.0.0.1:3000']);
      expect(rootEndpoints(objects, { deriveEndpointsFromPods: true }, 81).map((e) => `${e.ip}:${e.port}`)).to.deep.equal(['10.0.0.1:81', '10.0.0.2:81']);
    });
  });

  it('reports malformed slices and keeps their valid endpoints', () => {
    const bad = slice('web', [{ ip: '10.0.0.1' }]) as Record<string, unknown>;
    const config = compileObjects([
      service('web'),
      { ...bad, endpoints: [...(bad.endpoints as unknown[]), 'nonsense', { addresses: [] }], ports: [{ name: 'http', port: 8080 }, { port: 0 }] },
      { ...slice('web', []), metadata: { name: 'orphan', namespace: 'shop' } },
    ]);
    expect(endpointsOf(findPort(config, 'shop/web').destination).map((e) => e.ip)).to.deep.equal(['10.0.0.1']);
    expect(config.problems.map((p) => `${p.kind} ${p.name}: ${p.message}`)).to.deep.equal([
      'EndpointSlice orphan: no kubernetes.io/service-name label: it belongs to no Service (ignored)',
      'EndpointSlice web-abc: endpoints[1] is not an object',
      'EndpointSlice web-abc: endpoints[2].addresses has no address',
      'EndpointSlice web-abc: ports[1].port: 0 is not a port number 1..65535',
    ]);
  });
});
