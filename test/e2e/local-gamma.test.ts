/**
 * The Gateway API Mesh conformance cases (kubernetes-sigs/gateway-api conformance/tests/mesh,
 * core and the extended features Plexus claims), rebuilt on a real local-mode agent: the upstream
 * route manifests as they are, the upstream cluster as pods on loopback addresses answered by echo
 * backends, requests from a client pod's address to the Service the way a mesh client calls it.
 */
import { expect } from 'chai';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { echoBackend, echoCall, type EchoBackend, type EchoResult } from './helpers/echo.js';
import { manifestFolder, type ManifestFolder } from './helpers/manifests.js';
import { eventually, startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';
import { FIXTURES } from '../helpers/paths.js';

const MESH = 'gateway-conformance-mesh';
const CLIENT = '127.0.41.10';
const CONSUMER_CLIENT = '127.0.41.11';
const PODS = { 'echo-v1': '127.0.41.1', 'echo-v2': '127.0.41.2' } as const;
const ROUTES = join(FIXTURES, 'gateway', 'mesh', 'routes');

interface Request {
  /** As the conformance client writes it: `echo`, `echo-v1:8080`, `echo-v1.gateway-conformance-mesh`. */
  readonly host?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly from?: string;
}

describe('local mode: Gateway API Mesh conformance cases (real agent)', function () {
  this.timeout(120_000);
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  const backends: EchoBackend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await copyFile(join(FIXTURES, 'gateway', 'mesh', 'base.yaml'), join(folder.dir, 'base.yaml'));
    for (const [pod, ip] of Object.entries(PODS)) backends.push(await echoBackend(pod, MESH, ip, 8080));
    agent = await startAgent(['--manifests', folder.dir, '--node-name', 'n1', '--vip-cidr', '127.124.0.0/24', '--dns-port', '0']);
  });

  after(async () => {
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  /** The route files of the case before: removed when the next case applies its own. */
  let applied: string[] = [];

  /** Applies the upstream manifest(s) of a case as the only routes and waits until the agent serves them. */
  async function applyRoutes(...files: string[]): Promise<void> {
    await Promise.all(applied.map((file) => folder.remove(file)));
    applied = files.map((file) => `route-${file}`);
    const names: string[] = [];
    for (const file of files) {
      const text = await readFile(join(ROUTES, file), 'utf8');
      await folder.write(`route-${file}`, text);
      for (const doc of parseAllDocuments(text)) {
        const metadata = (doc.toJS() as { metadata?: { name?: string } } | null)?.metadata;
        if (metadata?.name) names.push(metadata.name);
      }
    }
    const expected = JSON.stringify(names.sort());
    await waitForConfig(agent!.ready.adminPort, (view) => JSON.stringify((view.config.routes ?? []).map((r) => r.name).sort()) === expected);
  }

  /** One request the way the conformance client sends it: to the Service named by `host`, from a client pod. */
  function call(request: Request): Promise<EchoResult> {
    const host = request.host ?? 'echo';
    const [name = '', portText] = host.split(':');
    const service = name.split('.')[0] ?? '';
    const vip = agent!.ready.vips[`${MESH}/${service}`];
    const port = portText === undefined ? 80 : Number(portText);
    if (vip === undefined) throw new Error(`no VIP for ${service}`);
    return echoCall({ address: vip, port, host, path: request.path ?? '/', headers: request.headers ?? {}, from: request.from ?? CLIENT });
  }

  /** The first request after a reload may still meet the old listeners: retried until it holds. */
  async function expectEventually(request: Request, check: (result: EchoResult) => void): Promise<void> {
    await eventually(async () => check(await call(request)));
  }

  function servedBy(backend: string): (result: EchoResult) => void {
    return (result) => {
      expect(result.status, result.body).to.equal(200);
      expect(result.echoed?.pod).to.equal(backend);
    };
  }

  function status(code: number): (result: EchoResult) => void {
    return (result) => expect(result.status, result.body).to.equal(code);
  }

  it('MeshBasic: with no route, the client reaches echo', async () => {
    await applyRoutes();
    await expectEventually({ host: 'echo' }, (result) => {
      expect(result.status).to.equal(200);
      expect(['echo-v1', 'echo-v2']).to.include(result.echoed?.pod);
    });
  });

  it('MeshTrafficSplit: Exact /v1 and /v2 go to their versions, anything else is 404', async () => {
    await applyRoutes('mesh-split.yaml');
    await expectEventually({ path: '/v1' }, servedBy('echo-v1'));
    await expectEventually({ path: '/v2' }, servedBy('echo-v2'));
    await expectEventually({ path: '/v3' }, status(404));
    await expectEventually({ path: '/v1/x' }, status(404));
  });

  it('MeshHTTPRouteSimpleSameNamespace: every request goes to echo-v1', async () => {
    await applyRoutes('httproute-simple-same-namespace.yaml');
    await expectEventually({}, servedBy('echo-v1'));
  });

  it('MeshHTTPRouteNamedRule: named and unnamed rules route alike', async () => {
    await applyRoutes('httproute-named-rule.yaml');
    await expectEventually({ path: '/named' }, servedBy('echo-v1'));
    await expectEventually({ path: '/unnamed' }, servedBy('echo-v2'));
  });

  it('MeshHTTPRouteMatching: path prefix and header matches with Gateway API precedence', async () => {
    await applyRoutes('httproute-matching.yaml');
    const cases: [Request, string][] = [
      [{ path: '/' }, 'echo-v1'],
      [{ path: '/example' }, 'echo-v1'],
      [{ path: '/', headers: { Version: 'one' } }, 'echo-v1'],
      [{ path: '/v2' }, 'echo-v2'],
      [{ path: '/v2/example' }, 'echo-v2'],
      [{ path: '/', headers: { Version: 'two' } }, 'echo-v2'],
      [{ path: '/v2/' }, 'echo-v2'],
      [{ path: '/v2example' }, 'echo-v1'],
      [{ path: '/foo/v2/example' }, 'echo-v1'],
    ];
    for (const [request, backend] of cases) await expectEventually(request, servedBy(backend));
  });

  it('MeshHTTPRouteQueryParamMatching: query matches, alone and with path and headers; no match is 404', async () => {
    await applyRoutes('httproute-query-param-matching.yaml');
    const cases: [Request, string | number][] = [
      [{ path: '/?animal=whale' }, 'echo-v1'],
      [{ path: '/?animal=dolphin' }, 'echo-v2'],
      [{ path: '/?animal=whale&otherparam=irrelevant' }, 'echo-v1'],
      [{ path: '/?animal=dolphin&color=yellow' }, 'echo-v2'],
      [{ path: '/?color=blue' }, 404],
      [{ path: '/?animal=dog' }, 404],
      [{ path: '/?animal=whaledolphin' }, 404],
      [{ path: '/' }, 404],
      [{ path: '/path1?animal=whale' }, 'echo-v1'],
      [{ path: '/?animal=whale', headers: { version: 'one' } }, 'echo-v2'],
      [{ path: '/path3?animal=shark' }, 'echo-v1'],
      [{ path: '/path4?animal=kraken', headers: { version: 'three' } }, 'echo-v1'],
      [{ path: '/?animal=shark' }, 404],
      [{ path: '/path4?animal=kraken' }, 404],
      [{ path: '/path5?animal=hydra' }, 'echo-v1'],
    ];
    for (const [request, expected] of cases) {
      await expectEventually(request, typeof expected === 'number' ? status(expected) : servedBy(expected));
    }
  });

  it('MeshHTTPRouteWeight: 70/30 over 500 requests, each share within 0.05, nothing else served', async () => {
    await applyRoutes('httproute-weight.yaml');
    await expectEventually({}, (result) => expect(result.status).to.equal(200));
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const result = await call({});
      const pod = result.echoed?.pod ?? `status ${result.status}`;
      counts.set(pod, (counts.get(pod) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).to.deep.equal(['echo-v1', 'echo-v2']);
    expect((counts.get('echo-v1') ?? 0) / 500).to.be.closeTo(0.7, 0.05);
    expect((counts.get('echo-v2') ?? 0) / 500).to.be.closeTo(0.3, 0.05);
  });

  it('MeshFrontend: a route on echo-v2 applies to its Service, not to its pod called directly', async () => {
    await applyRoutes('mesh-frontend.yaml');
    await expectEventually({ host: 'echo-v2' }, (result) => {
      servedBy('echo-v2')(result);
      expect(result.headers['x-header-set']).to.equal('set');
    });
    const direct = await echoCall({ address: PODS['echo-v2'], port: 8080, host: `${PODS['echo-v2']}:8080`, from: CLIENT });
    expect(direct.echoed?.pod).to.equal('echo-v2');
    expect(direct.headers['x-header-set']).to.equal(undefined);
  });

  it('MeshPorts: parentRef port 80 applies to port 80 only; no port applies to every port', async () => {
    await applyRoutes('mesh-ports.yaml');
    await expectEventually({ host: 'echo-v1' }, (result) => expect(result.headers['x-header-set']).to.equal('v1'));
    await expectEventually({ host: 'echo-v1:8080' }, (result) => {
      expect(result.status).to.equal(200);
      expect(result.headers['x-header-set']).to.equal(undefined);
    });
    await expectEventually({ host: 'echo-v2' }, (result) => expect(result.headers['x-header-set']).to.equal('v2'));
    await expectEventually({ host: 'echo-v2:8080' }, (result) => expect(result.headers['x-header-set']).to.equal('v2'));
  });

  it('MeshConsumerRoute: a route in the consumer namespace changes only its clients\' requests', async () => {
    await applyRoutes('mesh-consumer-route.yaml');
    const host = 'echo-v1.gateway-conformance-mesh';
    await expectEventually({ host, from: CONSUMER_CLIENT }, (result) => {
      servedBy('echo-v1')(result);
      expect(result.headers['x-header-set']).to.equal('set');
    });
    await expectEventually({ host, from: CLIENT }, (result) => {
      servedBy('echo-v1')(result);
      expect(result.headers['x-header-set']).to.equal(undefined);
    });
  });

  function redirectsTo(code: number, location: string): (result: EchoResult) => void {
    return (result) => {
      expect(result.status, result.body).to.equal(code);
      expect(result.headers.location).to.equal(location);
    };
  }

  it('MeshHTTPRoute303Redirect, 307Redirect, 308Redirect', async () => {
    await applyRoutes('httproute-303-redirect.yaml', 'httproute-307-redirect.yaml', 'httproute-308-redirect.yaml');
    await expectEventually({ path: '/redirect' }, redirectsTo(303, 'http://echo/redirect'));
    await expectEventually({ path: '/temporary' }, redirectsTo(307, 'http://echo/temporary'));
    await expectEventually({ path: '/permanent' }, redirectsTo(308, 'http://echo/permanent'));
  });

  it('MeshHTTPRouteRedirectHostAndStatus', async () => {
    await applyRoutes('httproute-redirect-host-and-status.yaml');
    await expectEventually({ path: '/hostname-redirect' }, redirectsTo(302, 'http://example.org/hostname-redirect'));
    await expectEventually({ path: '/host-and-status' }, redirectsTo(301, 'http://example.org/host-and-status'));
  });

  it('MeshHTTPRouteRedirectPath: prefix and full path replacement, with host and status', async () => {
    await applyRoutes('httproute-redirect-path.yaml');
    await expectEventually({ path: '/original-prefix/lemon' }, redirectsTo(302, 'http://echo/replacement-prefix/lemon'));
    await expectEventually({ path: '/full/path/original' }, redirectsTo(302, 'http://echo/full-path-replacement'));
    await expectEventually({ path: '/path-and-host' }, redirectsTo(302, 'http://example.org/replacement-prefix'));
    await expectEventually({ path: '/path-and-status' }, redirectsTo(301, 'http://echo/replacement-prefix'));
    await expectEventually({ path: '/full-path-and-host' }, redirectsTo(302, 'http://example.org/replacement-full'));
    await expectEventually({ path: '/full-path-and-status' }, redirectsTo(301, 'http://echo/replacement-full'));
  });

  it('MeshHTTPRouteRedirectPort', async () => {
    await applyRoutes('httproute-redirect-port.yaml');
    await expectEventually({ path: '/port' }, redirectsTo(302, 'http://echo:8083/port'));
    await expectEventually({ path: '/port-and-host' }, redirectsTo(302, 'http://example.org:8083/port-and-host'));
    await expectEventually({ path: '/port-and-status' }, redirectsTo(301, 'http://echo:8083/port-and-status'));
    await expectEventually({ path: '/port-and-host-and-status' }, redirectsTo(302, 'http://example.org:8083/port-and-host-and-status'));
  });

  it('MeshHTTPRouteSchemeRedirect', async () => {
    await applyRoutes('httproute-redirect-scheme.yaml');
    await expectEventually({ path: '/scheme' }, redirectsTo(302, 'https://echo/scheme'));
    await expectEventually({ path: '/scheme-and-host' }, redirectsTo(302, 'https://example.org/scheme-and-host'));
    await expectEventually({ path: '/scheme-and-status' }, redirectsTo(301, 'https://echo/scheme-and-status'));
    await expectEventually({ path: '/scheme-and-host-and-status' }, redirectsTo(302, 'https://example.org/scheme-and-host-and-status'));
  });

  /** The request header cases of MeshHTTPRouteRequestHeaderModifier (rule and backendRef filters alike). */
  async function requestHeaderCases(): Promise<void> {
    const cases: { request: Request; present: Record<string, string>; absent?: string[] }[] = [
      { request: { path: '/set', headers: { 'Some-Other-Header': 'val' } }, present: { 'some-other-header': 'val', 'x-header-set': 'set-overwrites-values' } },
      { request: { path: '/set', headers: { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' } }, present: { 'x-header-set': 'set-overwrites-values' } },
      { request: { path: '/add', headers: { 'Some-Other-Header': 'val' } }, present: { 'x-header-add': 'add-appends-values' } },
      { request: { path: '/add', headers: { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' } }, present: { 'x-header-add': 'some-other-value,add-appends-values' } },
      { request: { path: '/remove', headers: { 'X-Header-Remove': 'val' } }, present: {}, absent: ['x-header-remove'] },
      {
        request: { path: '/multiple', headers: { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' } },
        present: { 'x-header-set-1': 'header-set-1', 'x-header-set-2': 'header-set-2', 'x-header-add-1': 'header-add-1', 'x-header-add-2': 'add-val-2,header-add-2', 'x-header-add-3': 'header-add-3', 'another-header': 'another-header-val' },
        absent: ['x-header-remove-1', 'x-header-remove-2'],
      },
      {
        request: { path: '/case-insensitivity', headers: { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' } },
        present: { 'x-header-set': 'header-set', 'x-header-add': 'original-val-add,header-add', 'another-header': 'another-header-val' },
        absent: ['x-header-remove'],
      },
    ];
    for (const { request, present, absent = [] } of cases) {
      await expectEventually(request, (result) => {
        servedBy('echo-v1')(result);
        for (const [name, value] of Object.entries(present)) expect(result.echoed?.headers[name], name).to.equal(value);
        for (const name of absent) expect(result.echoed?.headers[name], name).to.equal(undefined);
      });
    }
  }

  it('MeshHTTPRouteRequestHeaderModifier: set, add, remove on the rule', async () => {
    await applyRoutes('httproute-request-header-modifier.yaml');
    await requestHeaderCases();
  });

  it('MeshHTTPRouteRequestHeaderModifier on the backendRef', async () => {
    await applyRoutes('httproute-request-header-modifier-backend.yaml');
    await requestHeaderCases();
  });

  it('MeshHTTPRouteRewritePath: prefix and full path rewrites, with header changes', async () => {
    await applyRoutes('httproute-rewrite-path.yaml');
    const paths: [string, string][] = [
      ['/prefix/one/two', '/one/two'], ['/strip-prefix/three', '/three'], ['/strip-prefix', '/'], ['/full/one/two', '/one'],
    ];
    for (const [path, rewritten] of paths) await expectEventually({ path }, (result) => expect(result.echoed?.path).to.equal(rewritten));
    const headers = { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' };
    for (const [path, rewritten] of [['/full/rewrite-path-and-modify-headers/test', '/test'], ['/prefix/rewrite-path-and-modify-headers/one', '/prefix/one']]) {
      await expectEventually({ path: path as string, headers }, (result) => {
        expect(result.echoed?.path).to.equal(rewritten);
        expect(result.echoed?.headers['x-header-add']).to.equal('header-val-1');
        expect(result.echoed?.headers['x-header-add-append']).to.equal('append-val-1,header-val-2');
        expect(result.echoed?.headers['x-header-set']).to.equal('set-overwrites-values');
        expect(result.echoed?.headers['x-header-remove']).to.equal(undefined);
      });
    }
  });
});
