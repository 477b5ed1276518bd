import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import { normalizeIp } from '../../../src/node-agent/runtime/ip.js';
import type { MeshRuntime, PortRuntime } from '../../../src/node-agent/runtime/types.js';
import type { AccessRule, SourceIdentity } from '../../../src/routing/mesh-config.js';
import { backend, backends, endpoint, match, meshConfig, meshPort, meshService, request } from './fixtures.js';

const frontend: SourceIdentity = { ip: '10.1.0.5', namespace: 'shop', pod: 'frontend-abc', serviceAccount: 'frontend' };
const batch: SourceIdentity = { ip: 'fd00::0:7', namespace: 'jobs', pod: 'batch-xyz', serviceAccount: 'batch' };
const stranger: SourceIdentity = { ip: '10.1.0.9', namespace: 'shop', pod: 'stranger', serviceAccount: 'default' };

const readOnly: AccessRule = {
  trafficTarget: 'shop/frontend-reads', sources: ['shop/frontend'], http: [match({ pathRegex: '/items', methods: ['GET'] })],
};
const batchAll: AccessRule = { trafficTarget: 'shop/batch-all', sources: ['jobs/batch'], http: null };

function runtime(acl: boolean): MeshRuntime {
  const destination = backends([backend('shop/web', 100, [endpoint('10.0.0.1')])]);
  return buildRuntime(meshConfig([
    meshService('shop/web', [
      meshPort({ port: 80, destination, access: [readOnly, batchAll] }),
      meshPort({ port: 5432, trafficType: 'tcp', destination, access: [readOnly, batchAll] }),
      meshPort({ port: 9000, destination, access: [] }),
    ]),
  ], [frontend, batch, stranger]), { acl });
}

describe('runtime: authorization', () => {
  const acl = runtime(true);
  const http = acl.ports.get('shop/web:80/TCP') as PortRuntime;
  const tcp = acl.ports.get('shop/web:5432/TCP') as PortRuntime;
  const closed = acl.ports.get('shop/web:9000/TCP') as PortRuntime;

  const table: readonly [string, PortRuntime, string, ReturnType<typeof request> | null, boolean, string][] = [
    ['HTTP route granted', http, '10.1.0.5', request('GET', '/items/7'), true, 'allowed by TrafficTarget shop/frontend-reads'],
    ['HTTP method not granted', http, '10.1.0.5', request('DELETE', '/items/7'), false, 'no TrafficTarget grants shop/frontend DELETE /items/7 on shop/web port 80/TCP'],
    ['HTTP path not granted (anchored)', http, '10.1.0.5', request('GET', '/admin/items'), false, 'no TrafficTarget grants shop/frontend GET /admin/items on shop/web port 80/TCP'],
    ['whole-port rule grants any request', http, 'fd00::7', request('POST', '/anything'), true, 'allowed by TrafficTarget shop/batch-all'],
    ['identity not listed', http, '10.1.0.9', request('GET', '/items'), false, 'no TrafficTarget grants shop/default access to shop/web port 80/TCP'],
    ['unknown source', http, '1.2.3.4', request('GET', '/items'), false, 'unknown source 1.2.3.4: not a pod of node node-a'],
    ['TCP: an HTTP-only rule does not grant a connection', tcp, '10.1.0.5', null, false, 'no TrafficTarget grants shop/frontend connections on shop/web port 5432/TCP'],
    ['TCP: a mapped IPv4 source is resolved, still not granted', tcp, '::ffff:10.1.0.5', null, false, 'no TrafficTarget grants shop/frontend connections on shop/web port 5432/TCP'],
    ['TCP: whole-port rule, IPv6 source', tcp, 'FD00:0:0::7', null, true, 'allowed by TrafficTarget shop/batch-all'],
    ['TCP: unknown source', tcp, '10.9.9.9', null, false, 'unknown source 10.9.9.9: not a pod of node node-a'],
    ['TCP: unknown mapped IPv4 source, named in plain IPv4', tcp, '::ffff:10.9.9.9', null, false, 'unknown source 10.9.9.9: not a pod of node node-a'],
    ['no access rules deny everyone', closed, 'fd00::7', request('GET', '/'), false, 'no TrafficTarget grants jobs/batch access to shop/web port 9000/TCP'],
  ];
  for (const [title, port, ip, req, allowed, reason] of table) {
    it(`${allowed ? 'allows' : 'denies'}: ${title}`, () => {
      const result = port.authorize(ip, req);
      expect({ allowed: result.allowed, reason: result.reason }).to.deep.equal({ allowed, reason });
    });
  }

  it('resolves the identity, also of denied callers, with IPv4-mapped addresses normalised', () => {
    expect(http.authorize('::ffff:10.1.0.5', request('DELETE', '/')).identity).to.deep.equal(frontend);
    expect(http.authorize('1.2.3.4', null).identity).to.equal(null);
  });

  it('allows everything with ACL mode off, still resolving the identity', () => {
    const open = runtime(false);
    const result = (open.ports.get('shop/web:9000/TCP') as PortRuntime).authorize('::ffff:10.1.0.5', request('DELETE', '/x'));
    expect(result).to.deep.equal({ allowed: true, identity: frontend, reason: 'ACL mode off' });
    expect((open.ports.get('shop/web:5432/TCP') as PortRuntime).authorize('1.2.3.4', null).allowed).to.equal(true);
    expect(open.acl).to.equal(false);
  });

  it('looks identities up by normalised IP', () => {
    expect(acl.identityOf('::ffff:10.1.0.9')).to.deep.equal(stranger);
    expect(acl.identityOf('fd00:0000::7')).to.deep.equal(batch);
    expect(acl.identityOf('10.1.0.6')).to.equal(null);
  });
});

describe('runtime: IP normalisation', () => {
  const cases: readonly [string, string][] = [
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
    ['FD00:0:0::01', 'fd00::1'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['not an ip:', 'not an ip:'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => expect(normalizeIp(input)).to.equal(expected));
  }
});
