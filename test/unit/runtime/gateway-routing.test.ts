/** The runtime of Gateway API routing: consumer tables by caller namespace, 503 per unready share, 500 for invalid backends, redirects. */
import { expect } from 'chai';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import type { Destination, HttpRule, MeshPort } from '../../../src/routing/mesh-config.js';
import { backend, endpoint, match, meshConfig, meshPort, meshService, request } from './fixtures.js';

function portOf(port: MeshPort) {
  const runtime = buildRuntime(meshConfig([meshService('shop/web', [port])]), { acl: false });
  const found = runtime.ports.get('shop/web:80/TCP');
  if (!found) throw new Error('no port');
  return found;
}

const NOT_FOUND: Destination = { kind: 'reject', split: null, status: 404, reason: 'no route rule matches this request' };

function rule(destination: Destination, extra: Partial<HttpRule> = {}): HttpRule {
  return { matches: [match({})], destination, ...extra };
}

describe('runtime: Gateway API routing', () => {
  it('a caller of a namespace with consumer routes gets them; others get the producer routing', () => {
    const port = portOf({
      ...meshPort({ destination: { kind: 'backends', split: null, backends: [backend('shop/web', 1, [endpoint('10.0.0.1')])] } }),
      consumers: [{ namespace: 'client', rules: [rule({ kind: 'backends', split: null, backends: [backend('shop/web-v2', 1, [endpoint('10.0.0.2')])], unready: 'fail' })], destination: NOT_FOUND }],
    });
    const forConsumer = port.route(request('GET', '/'), 'client');
    const forOthers = port.route(request('GET', '/'), 'other');
    const forUnknown = port.route(request('GET', '/'), null);
    expect(forConsumer.kind === 'forward' && forConsumer.backend.backend.service).to.equal('shop/web-v2');
    expect(forOthers.kind === 'forward' && forOthers.backend.backend.service).to.equal('shop/web');
    expect(forUnknown.kind === 'forward' && forUnknown.backend.backend.service).to.equal('shop/web');
  });

  it('with unready: fail, a backend without ready endpoints answers 503 for its share and an invalid one 500', () => {
    const destination: Destination = {
      kind: 'backends', split: null, unready: 'fail', backends: [
        backend('shop/ok', 1, [endpoint('10.0.0.1')]), backend('shop/empty', 1, []), { ...backend('shop/bad', 1, []), invalid: 'backendRef Service shop/bad does not exist' },
      ],
    };
    const port = portOf(meshPort({ destination: NOT_FOUND, rules: [rule(destination)] }));
    const answers = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const result = port.route(request('GET', '/'));
      const key = result.kind === 'forward' ? result.backend.backend.service : `${result.status} ${result.reason}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(answers)).to.deep.equal({
      'shop/ok': 10, '503 no ready endpoints for service shop/empty': 10, '500 backendRef Service shop/bad does not exist': 10,
    });
  });

  it('query matches, a 404 for the rest, a redirect answered by the agent, filters carried to the forward', () => {
    const forward: Destination = { kind: 'backends', split: null, unready: 'fail', backends: [backend('shop/web', 1, [endpoint('10.0.0.1')])] };
    const filters = { requestHeaders: { set: [{ name: 'x-a', value: '1' }], add: [], remove: [] }, responseHeaders: null, redirect: null, rewrite: null, mirrors: [] };
    const port = portOf(meshPort({
      destination: NOT_FOUND,
      rules: [
        rule(forward, { matches: [match({ queryParams: [{ name: 'animal', valueRegex: '^whale$' }] })], filters, timeouts: { requestMs: 5000, backendRequestMs: null } }),
        rule(NOT_FOUND, { matches: [match({ pathRegex: '\\/old(?:/|$)' })], filters: { ...filters, requestHeaders: null, redirect: { scheme: null, hostname: 'example.org', port: null, path: null, statusCode: 308 } } }),
      ],
    }));
    const whale = port.route(request('GET', '/?animal=whale'));
    expect(whale.kind === 'forward' && whale.actions).to.deep.include({ requestHeaders: [filters.requestHeaders], requestTimeoutMs: 5000, attemptTimeoutMs: null });
    expect(port.route(request('GET', '/?animal=dolphin'))).to.deep.include({ kind: 'reject', status: 404 });
    expect(port.route(request('GET', '/old/x'))).to.deep.include({ kind: 'reject', status: 308 });
  });
});
