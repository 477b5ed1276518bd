/**
 * The demo's traffic: a gentle, bounded stream of requests through the mesh VIPs, sent from a
 * pod's address that the TrafficTargets allow (so it also works with --acl), counting which
 * backend pod answered each request.
 */
import { createSocket } from 'node:dgram';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { MeshConfig, MeshPort, MeshService, TrafficType } from '../routing/mesh-config.js';

export interface DemoTarget {
  /** `namespace/name` of the Service. */
  readonly service: string;
  /** `<name>.<namespace>.<domain>`. */
  readonly host: string;
  readonly vip: string;
  readonly port: number;
  readonly trafficType: TrafficType;
  /** A pod IP whose ServiceAccount is allowed by the port's access rules (null: none is). */
  readonly sourceIp: string | null;
  /** The pod playing that source, `namespace/pod`. */
  readonly sourcePod: string | null;
  /** Sent from an address that is no pod (the ACL's refused caller), slower than the rest. */
  readonly unknownCaller: boolean;
}

export interface TargetStats {
  readonly target: DemoTarget;
  sent: number;
  /** Requests / exchanges answered (any HTTP status, or an echo). */
  answered: number;
  /** No answer: connection error, timeout, wrong echo. */
  failed: number;
  /** HTTP: answers by the pod named in `x-served-by`; status codes other than 2xx by code. */
  readonly byBackend: Map<string, number>;
  readonly byStatus: Map<number, number>;
  /** HTTP: who answered the latest requests (pod, or `HTTP <status>`), so a weight change shows at once. */
  readonly recent: RecentAnswers;
}

/** How many of the latest HTTP answers the demo's shares are computed over (about 10 s of traffic). */
export const RECENT_WINDOW = 200;

/** The last `capacity` answers, in a ring: the demo's sliding window of shares. */
export class RecentAnswers {
  readonly #ring: string[] = [];
  #next = 0;

  constructor(readonly capacity: number = RECENT_WINDOW) {}

  add(answer: string): void {
    if (this.#ring.length < this.capacity) this.#ring.push(answer);
    else this.#ring[this.#next] = answer;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** How many answers the window holds now (up to `capacity`). */
  get size(): number {
    return this.#ring.length;
  }

  /** Answers in the window, by who answered. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const answer of this.#ring) increment(counts, answer);
    return counts;
  }
}

/**
 * HTTP ports whose traffic is split (those are what the demo is about), else every HTTP port;
 * plus every TCP and UDP port. Only Services that have a VIP. The first HTTP target is also
 * called by an unknown caller (an address that is no pod): under --acl its requests get 403,
 * which `plexus stat --from` and the dashboard show.
 */
export function demoTargets(config: MeshConfig, vips: Readonly<Record<string, string>>): DemoTarget[] {
  const ports: { service: MeshService; port: MeshPort }[] = [];
  for (const service of config.services) for (const port of service.ports) ports.push({ service, port });
  const isSplit = (port: MeshPort): boolean => port.destination.split !== null || port.rules.some((r) => r.destination.split !== null);
  const http = ports.filter((p) => p.port.trafficType === 'http');
  const chosen = [
    ...(http.some((p) => isSplit(p.port)) ? http.filter((p) => isSplit(p.port)) : http),
    ...ports.filter((p) => p.port.trafficType !== 'http'),
  ];
  const targets: DemoTarget[] = [];
  for (const { service, port } of chosen) {
    const vip = vips[service.key] ?? service.vip;
    if (!vip) continue;
    const allowed = new Set(port.access.flatMap((rule) => rule.sources));
    const source = config.identities.find((id) => allowed.has(`${id.namespace}/${id.serviceAccount}`)) ?? null;
    targets.push({
      service: service.key,
      host: `${service.name}.${service.namespace}.${config.meshDomain}`,
      vip,
      port: port.port,
      trafficType: port.trafficType,
      sourceIp: source?.ip ?? null,
      sourcePod: source ? `${source.namespace}/${source.pod}` : null,
      unknownCaller: false,
    });
  }
  const firstHttp = targets.find((t) => t.trafficType === 'http' && t.sourceIp !== null);
  if (firstHttp) targets.push({ ...firstHttp, sourceIp: null, sourcePod: null, unknownCaller: true });
  return targets;
}

const EXCHANGE_TIMEOUT_MS = 2000;
const HTTP_INTERVAL_MS = 50;
const STREAM_INTERVAL_MS = 500;

export class TrafficGenerator {
  readonly stats: readonly TargetStats[];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(targets: readonly DemoTarget[]) {
    this.stats = targets.map((target) => ({ target, sent: 0, answered: 0, failed: 0, byBackend: new Map(), byStatus: new Map(), recent: new RecentAnswers() }));
  }

  start(): void {
    this.#running = true;
    this.#loops = this.stats.map((stats) => this.#loop(stats));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#agent.destroy();
  }

  async #loop(stats: TargetStats): Promise<void> {
    const interval = stats.target.trafficType === 'http' && !stats.target.unknownCaller ? HTTP_INTERVAL_MS : STREAM_INTERVAL_MS;
    while (this.#running) {
      stats.sent++;
      try {
        await this.#exchange(stats);
        stats.answered++;
      } catch {
        stats.failed++;
      }
      if (this.#running) await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  #exchange(stats: TargetStats): Promise<void> {
    const { target } = stats;
    if (target.trafficType === 'http') return this.#http(stats);
    return target.trafficType === 'tcp' ? tcpEcho(target) : udpEcho(target);
  }

  #http(stats: TargetStats): Promise<void> {
    const { target } = stats;
    return new Promise((resolve, reject) => {
      const req = request({
        host: target.vip,
        port: target.port,
        path: '/',
        agent: this.#agent,
        timeout: EXCHANGE_TIMEOUT_MS,
        headers: { host: `${target.host}:${target.port}` },
        ...(target.sourceIp ? { localAddress: target.sourceIp } : {}),
      }, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const servedBy = res.headers['x-served-by'];
          if (status >= 200 && status < 300 && typeof servedBy === 'string') {
            increment(stats.byBackend, servedBy);
            stats.recent.add(servedBy);
          } else {
            increment(stats.byStatus, status);
            stats.recent.add(`HTTP ${status}`);
          }
          resolve();
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function tcpEcho(target: DemoTarget): Promise<void> {
  const payload = `ping ${Date.now()}\n`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.vip, port: target.port, ...(target.sourceIp ? { localAddress: target.sourceIp } : {}) });
    let received = '';
    socket.setTimeout(EXCHANGE_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= payload.length) {
        socket.end();
        if (received === payload) resolve();
        else reject(new Error('wrong echo'));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before the echo')));
  });
}

function udpEcho(target: DemoTarget): Promise<void> {
  const payload = Buffer.from(`ping ${Date.now()}`);
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish(new Error('timeout')), EXCHANGE_TIMEOUT_MS);
    function finish(err: Error | null): void {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve();
    }
    socket.on('error', (err) => finish(err));
    socket.on('message', (message) => finish(message.equals(payload) ? null : new Error('wrong echo')));
    socket.bind(0, target.sourceIp ?? '127.0.0.1', () => socket.send(payload, target.port, target.vip));
  });
}
