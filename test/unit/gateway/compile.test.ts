/** Gateway API routes compiled into the routing model: attachment, precedence, consumers, status. */
import { expect } from 'chai';
import type { BackendsDestination, Destination, HttpRule, RouteStatus } from '../../../src/routing/mesh-config.js';
import { compileObjects, findPort, namespace, problemsOf, service, slice, trafficSplit } from '../routing/builders.js';
import { backendRef, exact, prefix, route, serviceParent } from './builders.js';

const cluster = [
  service('web', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'alt', port: 8080 }] }),
  service('web-v1', { annotations: {}, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  service('web-v2', { annotations: {}, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
  slice('web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]),
  slice('web-v1', [{ ip: '10.0.0.1' }]),
  slice('web-v2', [{ ip: '10.0.0.2' }]),
];

function backends(destination: Destination): BackendsDestination {
  if (destination.kind !== 'backends') throw new Error(`reject ${destination.status}: ${destination.reason}`);
  return destination;
}

function targets(rule: HttpRule): string[] {
  return backends(rule.destination).backends.map((b) => `${b.service}=${b.weight}`);
}

function statusOf(routes: readonly RouteStatus[] | undefined, name: string): RouteStatus {
  const found = routes?.find((r) => r.name === name);
  if (!found) throw new Error(`no status for ${name}`);
  return found;
}

function conditions(status: RouteStatus, parent = 0): string[] {
  return (status.parents[parent]?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

describe('gateway: HTTPRoute compiled into the routing model', () => {
  it('attaches to the parentRef port: its rules first, 404 for anything else, the other port untouched', () => {
    const config = compileObjects([...cluster, route('r', { rules: [{ backendRefs: [backendRef('web-v1', 80)] }] })]);
    const port = findPort(config, 'shop/web');
    expect(port.rules.map(targets)).to.deep.equal([['shop/web-v1=1']]);
    expect(port.rules[0]?.matches[0]?.pathRegex).to.equal(null);
    expect(port.destination).to.include({ kind: 'reject', status: 404 });
    expect(backends(port.rules[0]!.destination).unready).to.equal('fail');
    expect(findPort(config, 'shop/web', 8080).rules).to.deep.equal([]);
    expect(conditions(statusOf(config.routes, 'r'))).to.deep.equal(['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
    expect(config.problems).to.deep.equal([]);
  });

  it('without parentRef.port attaches to every HTTP port of the Service', () => {
    const config = compileObjects([...cluster, route('r', { parentRefs: [serviceParent('web')], rules: [{ backendRefs: [backendRef('web-v2', 80)] }] })]);
    expect(findPort(config, 'shop/web').rules).to.have.length(1);
    expect(findPort(config, 'shop/web', 8080).rules).to.have.length(1);
    expect(statusOf(config.routes, 'r').parents[0]?.conditions[0]?.message).to.equal('attached to port 80, 8080');
  });

  it('orders matches by Gateway API precedence across rules and routes', () => {
    const rules = [
      { matches: [prefix('/')], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [prefix('/api')], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [exact('/api')], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [{ ...prefix('/api'), method: 'POST' }], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [{ ...prefix('/api'), headers: [{ name: 'x-a', value: '1' }] }], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [{ ...prefix('/api'), queryParams: [{ name: 'q', value: '1' }] }], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [prefix('/api/v1/')], backendRefs: [backendRef('web-v1', 80)] },
    ];
    const older = route('b-older', { creationTimestamp: '2026-01-01T00:00:00Z', rules: [{ matches: [prefix('/api')], backendRefs: [backendRef('web-v2', 80)] }] });
    const config = compileObjects([...cluster, route('a-newer', { creationTimestamp: '2026-02-01T00:00:00Z', rules }), older]);
    const order = findPort(config, 'shop/web').rules.map((r) => `${r.route?.route} ${r.route?.index}`);
    expect(order).to.deep.equal([
      'shop/a-newer 2', // Exact
      'shop/a-newer 6', // longest prefix (/api/v1, trailing slash ignored)
      'shop/a-newer 3', // method
      'shop/a-newer 4', // a header match
      'shop/a-newer 5', // a query match
      'shop/b-older 0', // same as rule 1 of a-newer: the older route first
      'shop/a-newer 1',
      'shop/a-newer 0',
    ]);
  });

  it('turns path, header and query matches into anchored patterns', () => {
    const config = compileObjects([...cluster, route('r', { rules: [{
      matches: [
        { path: { type: 'Exact', value: '/a.b' }, headers: [{ name: 'Version', value: 'one' }], queryParams: [{ name: 'animal', value: 'whale' }] },
        { path: { type: 'PathPrefix', value: '/v2' } },
        { path: { type: 'RegularExpression', value: '/r[0-9]+' }, headers: [{ type: 'RegularExpression', name: 'x', value: 'a|b' }] },
      ],
      backendRefs: [backendRef('web-v1', 80)],
    }] })]);
    const matches = findPort(config, 'shop/web').rules.map((r) => r.matches[0]);
    expect(matches.map((m) => m?.pathRegex)).to.deep.equal(['\\/a\\.b$', '\\/v2(?:/|$)', '(?:/r[0-9]+)$']);
    expect(matches[0]?.headers).to.deep.equal([{ name: 'version', valueRegex: '^one$' }]);
    expect(matches[0]?.queryParams).to.deep.equal([{ name: 'animal', valueRegex: '^whale$' }]);
    expect(matches[2]?.headers).to.deep.equal([{ name: 'x', valueRegex: '^(?:a|b)$' }]);
  });

  it('a consumer route applies only to its namespace, the producer routing stays for everyone else', () => {
    const consumer = route('c', {
      namespace: 'client', parentRefs: [serviceParent('web', { namespace: 'shop', port: 80 })],
      rules: [{ filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Header-Set', value: 'set' }] } }], backendRefs: [backendRef('web-v1', 80, { namespace: 'shop' })] }],
    });
    const config = compileObjects([...cluster, consumer]);
    const port = findPort(config, 'shop/web');
    expect(port.rules).to.deep.equal([]);
    expect(backends(port.destination).backends.map((b) => b.service)).to.deep.equal(['shop/web']);
    expect(port.consumers?.map((c) => c.namespace)).to.deep.equal(['client']);
    expect(port.consumers?.[0]?.rules[0]?.filters?.responseHeaders?.set).to.deep.equal([{ name: 'X-Header-Set', value: 'set' }]);
    expect(port.consumers?.[0]?.destination).to.include({ status: 404 });
    expect(statusOf(config.routes, 'c').parents[0]?.parentRef).to.deep.equal({ group: '', kind: 'Service', namespace: 'shop', name: 'web', port: 80 });
  });

  it('reports parents it cannot attach to: missing Service, unmeshed Service, missing port', () => {
    const config = compileObjects([...cluster, route('r', {
      parentRefs: [serviceParent('nope'), serviceParent('web-v1'), serviceParent('web', { port: 81 }), { name: 'gw' }],
      rules: [{ backendRefs: [backendRef('web-v1', 80)] }],
    })]);
    const status = statusOf(config.routes, 'r');
    expect(status.parents).to.have.length(3);
    expect(status.parents.map((p) => p.conditions[0]?.reason)).to.deep.equal(['NoMatchingParent', 'NoMatchingParent', 'NoMatchingParent']);
    expect(status.parents.map((p) => p.conditions[0]?.message)).to.deep.equal([
      'Service shop/nope does not exist',
      'Service shop/web-v1 is not meshed (plexus.dev/mesh: "true" on it or its namespace)',
      'Service shop/web has no port 81',
    ]);
    expect(problemsOf(config, 'HTTPRoute', 'r')).to.have.length(3);
  });

  it('answers 500 for invalid backendRefs, 503 policy for the valid ones, and says why in ResolvedRefs', () => {
    const config = compileObjects([...cluster, namespace('other'), route('r', { rules: [{ backendRefs: [
      backendRef('web-v1', 80, { weight: 3 }),
      backendRef('missing', 80),
      backendRef('web-v2', 80, { namespace: 'other' }),
      backendRef('web-v2', 80, { group: 'example.com', kind: 'Thing' }),
      backendRef('web-v2', 9999),
    ] }] })]);
    const destination = backends(findPort(config, 'shop/web').rules[0]!.destination);
    expect(destination.backends.map((b) => [b.service, b.weight, b.invalid !== undefined])).to.deep.equal([
      ['shop/web-v1', 3, false], ['shop/missing', 1, true], ['other/web-v2', 1, true], ['shop/web-v2', 1, true], ['shop/web-v2', 1, true],
    ]);
    const resolved = statusOf(config.routes, 'r').parents[0]?.conditions[1];
    expect(resolved).to.include({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' });
    expect(resolved?.message).to.contain('Services of its own namespace or of its parent Service');
    expect(resolved?.message).to.contain('only Services are supported');
    expect(resolved?.message).to.contain('has no TCP port 9999');
  });

  it('a rule with no backendRefs, or only invalid ones, answers 500', () => {
    const config = compileObjects([...cluster, route('r', { rules: [{ matches: [prefix('/a')] }, { matches: [prefix('/b')], backendRefs: [backendRef('gone', 80)] }] })]);
    expect(findPort(config, 'shop/web').rules.map((r) => r.destination.kind === 'reject' && r.destination.status)).to.deep.equal([500, 500]);
  });

  it('GRPCRoute wins a port over HTTPRoute; the HTTPRoute is Conflicted there', () => {
    const h2c = service('grpc', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/scheme': 'h2c' }, ports: [{ name: 'grpc', port: 7070 }] });
    const grpc = route('g', { kind: 'GRPCRoute', parentRefs: [serviceParent('grpc', { port: 7070 })], rules: [{ backendRefs: [backendRef('grpc', 7070)] }] });
    const http = route('h', { parentRefs: [serviceParent('grpc', { port: 7070 })], rules: [{ backendRefs: [backendRef('grpc', 7070)] }] });
    const config = compileObjects([...cluster, h2c, grpc, http]);
    expect(findPort(config, 'shop/grpc', 7070).rules.map((r) => r.route?.kind)).to.deep.equal(['GRPCRoute']);
    expect(conditions(statusOf(config.routes, 'h'))[0]).to.equal('Accepted=False/Conflicted');
    expect(conditions(statusOf(config.routes, 'g'))[0]).to.equal('Accepted=True/Accepted');
  });

  it('GRPCRoute needs an h2c port', () => {
    const config = compileObjects([...cluster, route('g', { kind: 'GRPCRoute', rules: [{ backendRefs: [backendRef('web', 80)] }] })]);
    expect(conditions(statusOf(config.routes, 'g'))[0]).to.equal('Accepted=False/UnsupportedValue');
    expect(findPort(config, 'shop/web').rules).to.deep.equal([]);
  });

  it('GRPCRoute service/method matches become paths, ordered by service then method length', () => {
    const h2c = service('grpc', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/scheme': 'h2c' }, ports: [{ name: 'grpc', port: 7070 }] });
    const config = compileObjects([...cluster, h2c, route('g', { kind: 'GRPCRoute', parentRefs: [serviceParent('grpc')], rules: [
      { matches: [{ method: { service: 'pkg.Echo' } }], backendRefs: [backendRef('grpc', 7070)] },
      { matches: [{ method: { service: 'pkg.Echo', method: 'Say' } }], backendRefs: [backendRef('grpc', 7070)] },
      { matches: [{ method: { method: 'Say' } }], backendRefs: [backendRef('grpc', 7070)] },
    ] })]);
    expect(findPort(config, 'shop/grpc', 7070).rules.map((r) => r.matches[0]?.pathRegex)).to.deep.equal([
      '\\/pkg\\.Echo\\/Say$', '\\/pkg\\.Echo(?:/|$)', '(?:/[^/]+/Say)$',
    ]);
  });

  it('a TrafficSplit on the same Service answers what no HTTPRoute rule matches', () => {
    const split = trafficSplit('s', 'web', [{ service: 'web-v1', weight: 1 }, { service: 'web-v2', weight: 1 }]);
    const config = compileObjects([...cluster, split, route('r', { rules: [{ matches: [prefix('/v2')], backendRefs: [backendRef('web-v2', 80)] }] })]);
    const port = findPort(config, 'shop/web');
    expect(port.rules.map(targets)).to.deep.equal([['shop/web-v2=1']]);
    expect(backends(port.destination).split).to.equal('shop/s');
  });

  it('an invalid route attaches nowhere and says why in its status', () => {
    const config = compileObjects([...cluster, route('bad', { rules: [{ matches: [{ path: { type: 'RegularExpression', value: '(' } }], backendRefs: [backendRef('web-v1', 80)] }] })]);
    expect(findPort(config, 'shop/web').rules).to.deep.equal([]);
    expect(conditions(statusOf(config.routes, 'bad'))[0]).to.equal('Accepted=False/UnsupportedValue');
    expect(problemsOf(config, 'HTTPRoute', 'bad')[0]).to.match(/^spec\.rules\[0\]\.matches\[0\]\.path\.value: invalid regular expression/);
  });

  it('redirect and rewrite prefixes are the matched PathPrefix; timeouts and rule names are kept', () => {
    const config = compileObjects([...cluster, route('r', { generation: 4, rules: [
      { name: 'moved', matches: [prefix('/old/')], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' }, statusCode: 308 } }] },
      { matches: [prefix('/api')], timeouts: { request: '10s', backendRequest: '2s' }, filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'api.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [backendRef('web-v1', 80)] },
    ] })]);
    const [moved, api] = findPort(config, 'shop/web').rules;
    expect(moved?.route).to.deep.equal({ kind: 'HTTPRoute', route: 'shop/r', index: 0, name: 'moved' });
    expect(moved?.filters?.redirect).to.deep.equal({ scheme: null, hostname: null, port: null, path: { type: 'ReplacePrefixMatch', prefix: '/old', value: '/new' }, statusCode: 308 });
    expect(api?.filters?.rewrite).to.deep.equal({ hostname: 'api.internal', path: { type: 'ReplacePrefixMatch', prefix: '/api', value: '/' } });
    expect(api?.timeouts).to.deep.equal({ requestMs: 10_000, backendRequestMs: 2000 });
    expect(statusOf(config.routes, 'r').generation).to.equal(4);
  });
});

describe('gateway: RequestMirror', () => {
  const mirror = (requestMirror: Record<string, unknown>): Record<string, unknown> => ({ type: 'RequestMirror', requestMirror });

  it('compiles percent and fraction shares (default: every request) and drops a 0% mirror', () => {
    const config = compileObjects([...cluster, route('m', { rules: [
      { matches: [prefix('/all')], filters: [mirror({ backendRef: backendRef('web-v2', 80) })], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [prefix('/pct')], filters: [mirror({ backendRef: backendRef('web-v2', 80), percent: 20 })], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [prefix('/frac')], filters: [mirror({ backendRef: backendRef('web-v2', 80), fraction: { numerator: 25, denominator: 50 } }), mirror({ backendRef: backendRef('web', 80), fraction: { numerator: 3 } })], backendRefs: [backendRef('web-v1', 80)] },
      { matches: [prefix('/none')], filters: [mirror({ backendRef: backendRef('web-v2', 80), percent: 0 })], backendRefs: [backendRef('web-v1', 80)] },
    ] })]);
    const shares = (path: string): string[] => {
      const rule = findPort(config, 'shop/web').rules.find((r) => r.matches[0]?.pathRegex?.includes(path.slice(1)));
      return (rule?.filters?.mirrors ?? []).map((m) => `${m.service}:${m.numerator}/${m.denominator}:${m.endpoints.length}`);
    };
    expect(shares('/all')).to.deep.equal(['shop/web-v2:1/1:1']);
    expect(shares('/pct')).to.deep.equal(['shop/web-v2:20/100:1']);
    expect(shares('/frac')).to.deep.equal(['shop/web-v2:25/50:1', 'shop/web:3/100:2']);
    expect(shares('/none')).to.deep.equal([]);
    expect(conditions(statusOf(config.routes, 'm'))).to.deep.equal(['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  it('refuses what the CRD refuses: both shares, numerator over denominator, out-of-range values', () => {
    const config = compileObjects([...cluster, route('bad', { rules: [{
      matches: [prefix('/')],
      filters: [
        mirror({ backendRef: backendRef('web-v2', 80), percent: 10, fraction: { numerator: 1 } }),
        mirror({ backendRef: backendRef('web-v2', 80), fraction: { numerator: 5, denominator: 4 } }),
        mirror({ backendRef: backendRef('web-v2', 80), percent: 101 }),
        mirror({ backendRef: backendRef('web-v2', 80), fraction: { numerator: 1, denominator: 0 } }),
      ],
      backendRefs: [backendRef('web-v1', 80)],
    }] })]);
    expect(conditions(statusOf(config.routes, 'bad'))[0]).to.equal('Accepted=False/UnsupportedValue');
    expect(problemsOf(config, 'HTTPRoute', 'bad')).to.deep.equal([
      'spec.rules[0].filters[0].requestMirror: only one of percent or fraction may be specified',
      'spec.rules[0].filters[1].requestMirror.fraction: numerator must be less than or equal to denominator, got 5/4',
      'spec.rules[0].filters[2].requestMirror.percent: must be a whole number from 0 to 100, got 101',
      'spec.rules[0].filters[3].requestMirror.fraction.denominator: must be a whole number from 1 to 2147483647, got 0',
    ]);
  });

  it('a mirror to a missing Service is not configured and ResolvedRefs says so', () => {
    const config = compileObjects([...cluster, route('gone', { rules: [
      { matches: [prefix('/')], filters: [mirror({ backendRef: backendRef('nowhere', 80) })], backendRefs: [backendRef('web-v1', 80)] },
    ] })]);
    expect(findPort(config, 'shop/web').rules[0]?.filters?.mirrors).to.deep.equal([]);
    expect(conditions(statusOf(config.routes, 'gone'))).to.deep.equal(['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']);
  });
});
