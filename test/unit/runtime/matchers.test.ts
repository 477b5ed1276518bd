import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import { compileHttpMatch, compileHttpMatches } from '../../../src/node-agent/runtime/matchers.js';
import type { PortRuntime, RouteResult } from '../../../src/node-agent/runtime/types.js';
import { backend, backends, endpoint, match, meshConfig, meshPort, meshService, request } from './fixtures.js';

describe('runtime: HTTP matchers', () => {
  it('anchors pathRegex at the start of the path only', () => {
    const api = compileHttpMatch(match({ pathRegex: '/api' }));
    expect(api(request('GET', '/api'))).to.equal(true);
    expect(api(request('GET', '/api/v1/users'))).to.equal(true);
    expect(api(request('GET', '/v2/api'))).to.equal(false);
    const exact = compileHttpMatch(match({ pathRegex: '/metrics$' }));
    expect(exact(request('GET', '/metrics'))).to.equal(true);
    expect(exact(request('GET', '/metrics/x'))).to.equal(false);
  });

  it('anchors every alternative of an alternation', () => {
    const either = compileHttpMatch(match({ pathRegex: '/a|/b' }));
    expect(either(request('GET', '/b/c'))).to.equal(true);
    expect(either(request('GET', '/x/b'))).to.equal(false);
  });

  it('accepts every method when the list is empty, only the listed ones otherwise', () => {
    const any = compileHttpMatch(match({}));
    expect(['GET', 'POST', 'DELETE', 'PATCH'].every((method) => any(request(method, '/')))).to.equal(true);
    const reads = compileHttpMatch(match({ methods: ['GET', 'HEAD'] }));
    expect(reads(request('HEAD', '/'))).to.equal(true);
    expect(reads(request('POST', '/'))).to.equal(false);
  });

  it('searches header values anywhere, by lowercase name; a missing header fails', () => {
    const mobile = compileHttpMatch(match({ headers: [{ name: 'User-Agent', valueRegex: 'Android|iPhone' }] }));
    expect(mobile(request('GET', '/', { 'User-Agent': 'Mozilla/5.0 (iPhone; CPU)' }))).to.equal(true);
    expect(mobile(request('GET', '/', { 'user-agent': 'curl/8' }))).to.equal(false);
    expect(mobile(request('GET', '/'))).to.equal(false);
    const anchored = compileHttpMatch(match({ headers: [{ name: 'x-canary', valueRegex: '^true$' }] }));
    expect(anchored(request('GET', '/', { 'x-canary': 'true' }))).to.equal(true);
    expect(anchored(request('GET', '/', { 'x-canary': 'not true' }))).to.equal(false);
  });

  it('ANDs the conditions of one match', () => {
    const matcher = compileHttpMatch(match({ pathRegex: '/cart', methods: ['POST'], headers: [{ name: 'x-user', valueRegex: '.' }, { name: 'x-tier', valueRegex: 'gold' }] }));
    expect(matcher(request('POST', '/cart/items', { 'x-user': 'ann', 'x-tier': 'gold' }))).to.equal(true);
    expect(matcher(request('GET', '/cart/items', { 'x-user': 'ann', 'x-tier': 'gold' }))).to.equal(false);
    expect(matcher(request('POST', '/home', { 'x-user': 'ann', 'x-tier': 'gold' }))).to.equal(false);
    expect(matcher(request('POST', '/cart', { 'x-user': 'ann' }))).to.equal(false);
  });

  it('ORs a list of matches; an empty list matches nothing', () => {
    const matcher = compileHttpMatches([match({ pathRegex: '/a' }), match({ methods: ['DELETE'] })]);
    expect(matcher(request('GET', '/a'))).to.equal(true);
    expect(matcher(request('DELETE', '/z'))).to.equal(true);
    expect(matcher(request('GET', '/z'))).to.equal(false);
    expect(compileHttpMatches([])(request('GET', '/'))).to.equal(false);
  });

  it('turns an invalid regex into a match that accepts nothing, without throwing', () => {
    expect(compileHttpMatch(match({ pathRegex: '/(' }))(request('GET', '/('))).to.equal(false);
    expect(compileHttpMatch(match({ headers: [{ name: 'x', valueRegex: '[' }] }))(request('GET', '/', { x: '[' }))).to.equal(false);
  });

  describe('routing', () => {
    const v1 = backend('shop/web-v1', 100, [endpoint('10.0.0.1')]);
    const v2 = backend('shop/web-v2', 100, [endpoint('10.0.0.2')]);
    const root = backend('shop/web', 100, [endpoint('10.0.0.9')]);
    const service = meshService('shop/web', [meshPort({
      destination: backends([root]),
      rules: [
        { matches: [match({ headers: [{ name: 'x-canary', valueRegex: '1' }] })], destination: backends([v2], 'shop/canary') },
        { matches: [match({ pathRegex: '/api', methods: ['GET'] }), match({ pathRegex: '/v1' })], destination: backends([v1], 'shop/api') },
      ],
    })]);
    const port = buildRuntime(meshConfig([service]), { acl: false }).ports.get('shop/web:80/TCP') as PortRuntime;
    const serviceOf = (result: RouteResult): string => (result.kind === 'forward' ? result.backend.backend.service : result.reason);

    it('takes the first rule that matches, then the default destination', () => {
      expect(serviceOf(port.route(request('GET', '/api', { 'x-canary': '1' })))).to.equal('shop/web-v2');
      expect(serviceOf(port.route(request('GET', '/api/items')))).to.equal('shop/web-v1');
      expect(serviceOf(port.route(request('POST', '/v1/items')))).to.equal('shop/web-v1');
      expect(serviceOf(port.route(request('POST', '/api/items')))).to.equal('shop/web');
      expect(serviceOf(port.route(request('GET', '/')))).to.equal('shop/web');
    });

    it('uses the default destination when there is no request (TCP/UDP)', () => {
      expect(serviceOf(port.route(null))).to.equal('shop/web');
    });
  });
});
