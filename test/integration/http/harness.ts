/**
 * Test harness for the HTTP proxies: a hand-written MeshConfig for one Service `shop/web`, the
 * real runtime built from it, a listener that hands accepted sockets to the handler under test,
 * and small loopback servers and clients.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AccessRule, Endpoint, MeshConfig, Policy, Scheme, SourceIdentity } from '../../../src/routing/mesh-config.js';
import { portKey } from '../../../src/routing/mesh-config.js';
import { buildRuntime } from '../../../src/node-agent/runtime/build.js';
import type { PortRuntime } from '../../../src/node-agent/runtime/types.js';
import type { MirrorRecord, RequestRecord } from '../../../src/node-agent/telemetry/types.js';
import { DIRECT_DIALER } from '../../../src/node-agent/runtime/dialer.js';
import type { ConnectionHandler } from '../../../src/node-agent/http/context.js';
import {
  createH2cHandler, createHttp1Handler, DEFAULT_HTTP_LIMITS, DEFAULT_PATH_POLICY, type HttpLimits, MirrorSender, type PathPolicy, UpstreamPool,
} from '../../../src/node-agent/http/index.js';

export const SERVICE_PORT = 80;

/** A caller known as pod shop/client-1 (ServiceAccount shop/client), allowed `/public` only by PUBLIC_ONLY. */
export const CLIENT_IP = '127.0.0.2';
export const IDENTITIES: readonly SourceIdentity[] = [{ ip: CLIENT_IP, namespace: 'shop', pod: 'client-1', serviceAccount: 'client' }];
export const PUBLIC_ONLY: readonly AccessRule[] = [{
  trafficTarget: 'shop/client-public',
  sources: ['shop/client'],
  http: [{ name: 'public', pathRegex: '/public', methods: [], headers: [] }],
}];

export interface MeshOptions {
  readonly endpoints: ReadonlyArray<{ readonly ip?: string; readonly port: number; readonly ready?: boolean }>;
  readonly policy?: Partial<Policy>;
  readonly scheme?: Scheme;
  readonly access?: readonly AccessRule[];
  readonly identities?: readonly SourceIdentity[];
}

export function endpoint(port: number, ip = '127.0.0.1', ready = true): Endpoint {
  return { ip, port, ready, serving: ready, terminating: false, nodeName: 'node-1', pod: null, serviceAccount: null };
}

/** One meshed Service `shop/web`, port 80, HTTP (or h2c), served by the given endpoints. */
export function meshConfig(options: MeshOptions): MeshConfig {
  const policy: Policy = {
    retryAttempts: 0, timeoutMs: 0, loadBalancer: 'round-robin', circuitBreaker: null, rateLimit: null, ...options.policy,
  };
  return {
    nodeName: 'node-1',
    meshDomain: 'plexus',
    services: [{
      key: 'shop/web',
      namespace: 'shop',
      name: 'web',
      clusterIP: null,
      vip: null,
      ports: [{
        name: 'http',
        port: SERVICE_PORT,
        protocol: 'TCP',
        trafficType: 'http',
        scheme: options.scheme ?? 'http',
        listenerPort: 0,
        rules: [],
        destination: {
          kind: 'backends',
          split: null,
          backends: [{ service: 'shop/web', weight: 1, endpoints: options.endpoints.map((e) => endpoint(e.port, e.ip, e.ready)) }],
        },
        access: options.access ?? [],
      }],
      policy,
    }],
    identities: options.identities ?? [],
    allocation: { ports: {}, vips: {} },
    problems: [],
  };
}

export interface ProxyUnderTest {
  readonly port: number;
  readonly records: RequestRecord[];
  /** One per RequestMirror copy, when it ended or was dropped. */
  readonly mirrors: MirrorRecord[];
  readonly mirrorSender: MirrorSender;
  readonly handler: ConnectionHandler;
  readonly upstreams: UpstreamPool;
  /** Applies a new config the way the agent does on reload: a new runtime built on the old one. */
  reload(config: MeshConfig): void;
  close(): Promise<void>;
}

export interface ProxyOptions {
  readonly acl?: boolean;
  readonly limits?: Partial<HttpLimits>;
  readonly paths?: Partial<PathPolicy>;
}

export async function startProxy(config: MeshConfig, options: ProxyOptions = {}): Promise<ProxyUnderTest> {
  const acl = options.acl ?? false;
  let runtime = buildRuntime(config, { acl });
  const key = portKey('shop', 'web', SERVICE_PORT, 'TCP');
  let portRuntime = runtime.ports.get(key) as PortRuntime;
  const records: RequestRecord[] = [];
  const mirrors: MirrorRecord[] = [];
  const upstreams = new UpstreamPool();
  const telemetry = {
    request: (record: RequestRecord) => records.push(record),
    connection: () => undefined,
    mirror: (record: MirrorRecord) => mirrors.push(record),
  };
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const mirrorSender = new MirrorSender(upstreams, telemetry, DIRECT_DIALER, limits);
  const ctx = {
    current: () => portRuntime,
    telemetry,
    limits,
    paths: { ...DEFAULT_PATH_POLICY, ...options.paths },
    upstreams,
    mirrors: mirrorSender,
  };
  const handler = config.services[0]?.ports[0]?.scheme === 'h2c' ? createH2cHandler(ctx) : createHttp1Handler(ctx);
  const server = net.createServer((socket) => handler.handle(socket));
  const port = await listen(server, '127.0.0.1');
  return {
    port,
    records,
    mirrors,
    mirrorSender,
    handler,
    upstreams,
    reload(next: MeshConfig) {
      runtime = buildRuntime(next, { acl }, runtime);
      portRuntime = runtime.ports.get(key) as PortRuntime;
    },
    async close() {
      handler.destroy();
      upstreams.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export function closeServer(server: net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on (bound, read back, released). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export interface UpstreamServer {
  readonly port: number;
  readonly server: http.Server;
  /** TCP connections accepted so far. */
  connections: number;
  requests: number;
  close(): Promise<void>;
}

export async function startUpstream(handler: http.RequestListener): Promise<UpstreamServer> {
  const server = http.createServer(handler);
  const upstream = {
    port: 0,
    server,
    connections: 0,
    requests: 0,
    close: () => closeServer(server),
  };
  server.on('connection', () => { upstream.connections++; });
  server.on('request', () => { upstream.requests++; });
  upstream.port = await listen(server);
  return upstream;
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly reusedSocket: boolean;
}

export function request(port: number, options: http.RequestOptions & { body?: Buffer | string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { body, ...requestOptions } = options;
    const req = http.request({ host: '127.0.0.1', port, path: '/', ...requestOptions }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes on a new connection and collects everything until the proxy closes it. */
export function rawExchange(port: number, data: string | Buffer, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(data);
  });
}

/** Polls a condition that becomes true by itself (bounded: 60 s, ending as soon as it holds), then asserts it. */
export async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).to.equal(true);
}

export interface RawReply {
  /** Everything the proxy sent, latin1. */
  readonly text: string;
  /** The proxy did not close the connection within 5 s of the client's half-close. */
  readonly hung: boolean;
}

/**
 * Writes raw bytes on a new connection, half-closes it (no more requests), and collects what the
 * proxy sends until it closes its side, for at most 5 s: a proxy that leaves its client waiting
 * shows up as `hung`, not as a test timeout.
 */
export function rawSend(port: number, data: string | Buffer, localAddress?: string): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const chunks: Buffer[] = [];
    const bound = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), hung: true });
    }, 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => { /* a reset ends the exchange like a close */ });
    socket.on('close', () => {
      clearTimeout(bound);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), hung: false });
    });
    socket.end(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  });
}

/** The status codes of the responses in raw response bytes, in order (the bodies must not look like status lines). */
export function statusesOf(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}
