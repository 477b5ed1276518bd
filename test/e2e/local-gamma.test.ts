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
import { echoBackend, echoCall, grpcEchoBackend, grpcEchoCall, type EchoBackend, type EchoResult, type GrpcResult } from './helpers/echo.js';
import { manifestFolder, type ManifestFolder } from './helpers/manifests.js';
import { eventually, startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';
import { FIXTURES } from '../helpers/paths.js';

const MESH = 'gateway-conformance-mesh';
const CLIENT = '127.0.41.10';
const CONSUMER_CLIENT = '127.0.41.11';
const PODS = { 'echo-v1': '127.0.41.1', 'echo-v2': '127.0.41.2' } as const;
const ROUTES = join(FIXTURES, 'gateway', 'mesh', 'routes');
/** The Services' `grpc` port; on `echo` its appProtocol is kubernetes.io/h2c. */
const GRPC_PORT = 7070;
const ECHO_METHOD = '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo';
const OK = '0';
const UNIMPLEMENTED = '12';

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
  const httpBackends = new Map<string, EchoBackend>();

  before(async () => {
    folder = await manifestFolder();
    await copyFile(join(FIXTURES, 'gateway', 'mesh', 'base.yaml'), join(folder.dir, 'base.yaml'));
    for (const [pod, ip] of Object.entries(PODS)) {
      httpBackends.set(pod, await echoBackend(pod, MESH, ip, 8080));
      backends.push(httpBackends.get(pod) as EchoBackend, await grpcEchoBackend(pod, MESH, ip, GRPC_PORT));
    }
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
  /** A unary call to `echo:7070` from the client pod, as the conformance gRPC client makes it. */
  function grpcCall(path = ECHO_METHOD, metadata: Readonly<Record<string, string>> = {}): Promise<GrpcResult> {
    const vip = agent!.ready.vips[`${MESH}/echo`];
    if (vip === undefined) throw new Error('no VIP for echo');
    return grpcEchoCall({ address: vip, port: GRPC_PORT, authority: `echo:${GRPC_PORT}`, path, metadata, from: CLIENT });
  }

  async function grpcEventually(path: string, metadata: Readonly<Record<string, string>>, check: (result: GrpcResult) => void): Promise<void> {
    await eventually(async () => check(await grpcCall(path, metadata)));
  }

  function grpcServedBy(backend: string): (result: GrpcResult) => void {
    return (result) => {
      expect(result.grpcStatus).to.equal(OK);
      expect(result.echoed?.pod).to.equal(backend);
    };
  }

  it('MeshGRPCRouteWeight: 70/30 over 500 calls on the h2c port, each share within 0.05', async () => {
    await applyRoutes('grpcroute-weight.yaml');
    await grpcEventually(ECHO_METHOD, {}, (result) => expect(result.grpcStatus).to.equal(OK));
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const result = await grpcCall();
      const pod = result.echoed?.pod ?? `grpc-status ${result.grpcStatus}`;
      counts.set(pod, (counts.get(pod) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).to.deep.equal(['echo-v1', 'echo-v2']);
    expect((counts.get('echo-v1') ?? 0) / 500).to.be.closeTo(0.7, 0.05);
    expect((counts.get('echo-v2') ?? 0) / 500).to.be.closeTo(0.3, 0.05);
  });

  it('MeshGRPCRouteRequestHeaderModifier: set, add, remove and all three, matched by header', async () => {
    await applyRoutes('grpcroute-request-header-modifier.yaml');
    const cases: { metadata: Record<string, string>; backend: string; present: Record<string, string>; absent?: string[] }[] = [
      {
        metadata: { 'x-test-case': 'set', 'some-other-header': 'this-header-should-be-set', 'x-header-set': 'this-value-should-be-overwritten' },
        backend: 'echo-v1', present: { 'x-test-case': 'set', 'some-other-header': 'this-header-should-be-set', 'x-header-set': 'set-overwrites-values' },
      },
      {
        metadata: { 'x-test-case': 'add', 'x-header-add': 'this-value-should-be-appended' },
        backend: 'echo-v1', present: { 'x-test-case': 'add', 'x-header-add': 'this-value-should-be-appended,add-appends-values' },
      },
      { metadata: { 'x-test-case': 'remove', 'x-header-remove': 'this-should-be-removed' }, backend: 'echo-v1', present: { 'x-test-case': 'remove' }, absent: ['x-header-remove'] },
      {
        metadata: { 'x-test-case': 'multi', 'x-header-set-2': 'set-header-2', 'x-header-add-2': 'add-header-2', 'x-header-remove-2': 'should-be-removed-2' },
        backend: 'echo-v2',
        present: { 'x-test-case': 'multi', 'x-header-set-1': 'header-set-1', 'x-header-set-2': 'header-set-2', 'x-header-add-1': 'header-add-1', 'x-header-add-2': 'add-header-2,header-add-2' },
        absent: ['x-header-remove-1', 'x-header-remove-2'],
      },
    ];
    for (const { metadata, backend, present, absent = [] } of cases) {
      await grpcEventually(ECHO_METHOD, metadata, (result) => {
        grpcServedBy(backend)(result);
        for (const [name, value] of Object.entries(present)) expect(result.echoed?.headers[name], name).to.equal(value);
        for (const name of absent) expect(result.echoed?.headers[name], name).to.equal(undefined);
      });
    }
  });

  it('GRPCExactMethodMatching on the mesh: each method to its backend, an unknown one is UNIMPLEMENTED', async () => {
    await applyRoutes('grpcroute-exact-method-matching.yaml');
    const service = '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
    await grpcEventually(`${service}/Echo`, {}, grpcServedBy('echo-v1'));
    await grpcEventually(`${service}/EchoTwo`, {}, grpcServedBy('echo-v2'));
    await grpcEventually(`${service}/EchoThree`, {}, (result) => expect(result.grpcStatus).to.equal(UNIMPLEMENTED));
  });

  it('GRPCRouteHeaderMatching on the mesh: header matches with precedence, no match is UNIMPLEMENTED', async () => {
    await applyRoutes('grpcroute-header-matching.yaml');
    const cases: [Record<string, string>, string | null][] = [
      [{ version: 'one' }, 'echo-v1'],
      [{ version: 'two' }, 'echo-v2'],
      [{ version: 'two', color: 'orange' }, 'echo-v1'],
      [{ version: 'two', color: 'blue' }, 'echo-v2'],
      [{ color: 'orange' }, null],
      [{ 'some-other-header': 'one' }, null],
      [{ color: 'blue' }, 'echo-v1'],
      [{ color: 'green' }, 'echo-v1'],
      [{ color: 'red' }, 'echo-v2'],
      [{ color: 'yellow' }, 'echo-v2'],
      [{ color: 'purple' }, null],
    ];
    for (const [metadata, backend] of cases) {
      await grpcEventually(ECHO_METHOD, metadata, backend === null ? (result) => expect(result.grpcStatus).to.equal(UNIMPLEMENTED) : grpcServedBy(backend));
    }
  });
  /** Requests echo-v2's HTTP backend received on `path` (mirror copies land there). */
  function copiesTo(path: string): number {
    return (httpBackends.get('echo-v2')?.received ?? []).filter((r) => r.path === path).length;
  }

  it('HTTPRouteRequestMirror on the mesh: echo-v1 answers, echo-v2 gets a copy with the rule\'s header changes', async () => {
    await applyRoutes('httproute-request-mirror.yaml');
    await expectEventually({ path: '/mirror' }, servedBy('echo-v1'));
    await eventually(async () => expect(copiesTo('/mirror')).to.be.greaterThan(0));
    const headers = { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1' };
    await expectEventually({ path: '/mirror-and-modify-headers', headers }, servedBy('echo-v1'));
    await eventually(async () => {
      const copy = httpBackends.get('echo-v2')?.received.find((r) => r.path === '/mirror-and-modify-headers');
      expect(copy?.headers['x-header-set']).to.equal('set-overwrites-values');
      expect(copy?.headers['x-header-add']).to.equal('header-val-1');
      expect(copy?.headers['x-header-add-append']).to.equal('append-val-1,header-val-2');
      expect(copy?.headers['x-header-remove']).to.equal(undefined);
    });
  });

  it('HTTPRouteRequestPercentageMirror on the mesh: 20% and 25/50 of 100 requests are copied', async () => {
    await applyRoutes('httproute-request-mirror.yaml');
    for (const [path, share] of [['/percent-mirror', 0.2], ['/percent-mirror-fraction', 0.5]] as const) {
      await expectEventually({ path }, servedBy('echo-v1'));
      const before = copiesTo(path);
      for (let i = 0; i < 100; i++) servedBy('echo-v1')(await call({ path }));
      // The share is exact over any run of requests (a running count), up to the one copy in flight at the edges.
      await eventually(async () => expect(copiesTo(path) - before).to.be.closeTo(100 * share, 1));
    }
  });
});
