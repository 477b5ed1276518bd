/**
 * Shared by the agent integration tests: hand-written MeshConfigs, an agent with a captured
 * log, free ports, loopback servers and a /metrics parser.
 */
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { NodeAgent, type AgentOptions } from '../../../src/node-agent/agent.js';
import type {
  AccessRule, Endpoint, MeshConfig, MeshPort, MeshService, PortProtocol, Policy, SourceIdentity, TrafficType,
} from '../../../src/routing/mesh-config.js';
import { portKey } from '../../../src/routing/mesh-config.js';

export const DEFAULT_POLICY: Policy = {
  retryAttempts: 0, timeoutMs: 0, loadBalancer: 'round-robin', circuitBreaker: null, rateLimit: null,
};

export function endpoint(ip: string, port: number): Endpoint {
  return { ip, port, ready: true, serving: true, terminating: false, nodeName: null, pod: null, serviceAccount: null };
}

export interface PortSpec {
  readonly port: number;
  readonly protocol?: PortProtocol;
  readonly trafficType?: TrafficType;
  readonly scheme?: 'http' | 'h2c';
  readonly listenerPort?: number;
  /** Endpoints of the Service itself (no split). */
  readonly endpoints: readonly Endpoint[];
  readonly access?: readonly AccessRule[];
}

export interface ServiceSpec {
  readonly namespace: string;
  readonly name: string;
  readonly vip: string | null;
  readonly ports: readonly PortSpec[];
  readonly policy?: Partial<Policy>;
}

export function meshService(spec: ServiceSpec): MeshService {
  const key = `${spec.namespace}/${spec.name}`;
  const ports: MeshPort[] = spec.ports.map((port) => ({
    name: '',
    port: port.port,
    protocol: port.protocol ?? 'TCP',
    trafficType: port.trafficType ?? (port.protocol === 'UDP' ? 'udp' : 'tcp'),
    scheme: port.scheme ?? 'http',
    listenerPort: port.listenerPort ?? 0,
    rules: [],
    destination: { kind: 'backends', split: null, backends: [{ service: key, weight: 1, endpoints: port.endpoints }] },
    access: port.access ?? [],
  }));
  return {
    key, namespace: spec.namespace, name: spec.name, clusterIP: null, vip: spec.vip, ports,
    policy: { ...DEFAULT_POLICY, ...spec.policy },
  };
}

export function meshConfig(services: readonly ServiceSpec[], identities: readonly SourceIdentity[] = []): MeshConfig {
  const built = services.map(meshService);
  const ports: Record<string, number> = {};
  const vips: Record<string, string> = {};
  for (const service of built) {
    if (service.vip) vips[service.key] = service.vip;
    for (const port of service.ports) ports[portKey(service.namespace, service.name, port.port, port.protocol)] = port.listenerPort;
  }
  return {
    nodeName: 'node-1', meshDomain: 'plexus', services: built, identities, allocation: { ports, vips }, problems: [],
  };
}

/** A log destination that keeps every JSON line. */
export class CapturedLog extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }

  messages(msg: string): Array<Record<string, unknown>> {
    return this.lines.filter((line) => line.msg === msg);
  }
}

export function startAgent(options: Partial<AgentOptions> = {}): { agent: NodeAgent; log: CapturedLog } {
  const log = new CapturedLog();
  const agent = new NodeAgent({
    mode: 'local', listenAddress: '127.0.0.1', acl: false, adminAddress: '127.0.0.1', adminPort: 0,
    logger: pino({ level: 'info' }, log), accessLog: { enabled: true, sampleRate: 1 },
    ...options,
  });
  return { agent, log };
}

/** A port free right now on `address` (bound to 0 and released): for Service ports, which cannot be 0. */
export async function freePort(address: string, protocol: PortProtocol = 'TCP'): Promise<number> {
  if (protocol === 'UDP') {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestServer {
  readonly server: Server;
  readonly port: number;
  /** Closes the server and every connection it still has. */
  close(): Promise<void>;
}

/** A TCP server on `address`:0; `onSocket` gets each connection. */
export async function tcpServer(address: string, onSocket: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}

/** Echoes every byte; when the client half-closes, answers `bye` and ends. */
export function echoUntilEnd(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.on('data', (data) => socket.write(data));
  socket.on('end', () => socket.end('bye'));
}

export async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

/** Sum of a metric's samples whose labels include `labels` (Prometheus text format). */
export async function metricValue(adminPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) total += Number(match[3]);
  }
  return total;
}

/** Polls `check` every 20 ms until it returns true (false after `timeoutMs`: generous, it ends as soon as the state holds). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
