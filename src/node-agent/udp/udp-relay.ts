/**
 * UDP relay for one listener: datagrams from each client address (a flow) go to one endpoint
 * through a socket of the flow's own, and the endpoint's replies go back to the client from the
 * listener's socket, so the client sees answers from the address it called.
 *
 * A flow is decided at its first datagram: ACL denied or no endpoint → its datagrams are dropped
 * (and recorded once) until it goes idle. Flows end after `idleTimeoutMs` without traffic either
 * way; the table is bounded and evicts the least recently used flow when full.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { CurrentPort } from '../listeners/connection-handler.js';
import { normalizeIp } from '../runtime/ip.js';
import type { AuthzResult, BackendRuntime, EndpointRuntime, PortRuntime } from '../runtime/types.js';
import type { ConnectionRecord, Telemetry } from '../telemetry/types.js';
import { FlowTable, type Flow } from './flow-table.js';

export interface UdpRelayContext {
  readonly current: CurrentPort;
  readonly telemetry: Telemetry;
  readonly idleTimeoutMs: number;
  readonly maxFlows: number;
}

export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_UDP_MAX_FLOWS = 10_000;

type Outcome = ConnectionRecord['outcome'];

interface UdpFlow extends Flow {
  readonly client: { readonly address: string; readonly port: number };
  readonly sourceIp: string;
  readonly port: PortRuntime;
  readonly authz: AuthzResult;
  readonly started: number;
  /** Null for a flow whose datagrams are dropped (denied, no endpoint): already recorded. */
  readonly forward: {
    readonly backend: BackendRuntime;
    readonly endpoint: EndpointRuntime;
    readonly upstream: Socket;
  } | null;
  bytesIn: number;
  bytesOut: number;
}

export class UdpRelay {
  readonly #context: UdpRelayContext;
  readonly #socket: Socket;
  readonly #address: string;
  readonly #port: number;
  readonly #flows: FlowTable<UdpFlow>;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(address: string, port: number, context: UdpRelayContext) {
    this.#context = context;
    this.#address = address;
    this.#port = port;
    this.#flows = new FlowTable(context.maxFlows);
    this.#socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    this.#socket.on('message', (message, remote) => this.#fromClient(message, remote));
  }

  get activeFlows(): number {
    return this.#flows.size;
  }

  /** Binds the listener socket; rejects with the bind error (EADDRINUSE, EADDRNOTAVAIL...). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(error);
      this.#socket.once('error', failed);
      this.#socket.bind({ address: this.#address, port: this.#port, exclusive: true }, () => {
        this.#socket.removeListener('error', failed);
        // A send error to one client (e.g. ICMP unreachable) must not take the listener down.
        this.#socket.on('error', () => undefined);
        const period = Math.max(10, Math.min(this.#context.idleTimeoutMs / 4, 1000));
        this.#sweeper = setInterval(() => this.#expireIdle(), period);
        this.#sweeper.unref();
        resolve();
      });
    });
  }

  /** Ends every flow and closes the listener socket. UDP has nothing in flight to wait for. */
  close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const flow of this.#flows.clear()) this.#end(flow, 'closed');
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or already closed
      }
    });
  }

  #fromClient(message: Buffer, remote: RemoteInfo): void {
    const now = performance.now();
    const key = `${remote.address}|${remote.port}`;
    const flow = this.#flows.touch(key, now) ?? this.#open(key, remote, now);
    if (!flow.forward) return;
    flow.bytesIn += message.length;
    const { endpoint, upstream } = flow.forward;
    upstream.send(message, endpoint.endpoint.port, endpoint.endpoint.ip);
  }

  #open(key: string, remote: RemoteInfo, now: number): UdpFlow {
    const port = this.#context.current();
    const sourceIp = normalizeIp(remote.address);
    const authz = port.authorize(sourceIp, null);
    const base = {
      client: { address: remote.address, port: remote.port }, sourceIp, port, authz, started: now,
      lastActive: now, bytesIn: 0, bytesOut: 0,
    };
    const route = authz.allowed ? port.route(null) : null;
    const backend = route?.kind === 'forward' ? route.backend : null;
    const endpoint = backend?.pickEndpoint() ?? null;
    let flow: UdpFlow;
    if (!backend || !endpoint) {
      flow = { ...base, forward: null };
      this.#record(flow, authz.allowed ? 'no-endpoint' : 'denied');
    } else {
      endpoint.begin();
      const upstream = createSocket({ type: isIPv6(endpoint.endpoint.ip) ? 'udp6' : 'udp4' });
      flow = { ...base, forward: { backend, endpoint, upstream } };
      upstream.on('message', (reply, from) => this.#fromEndpoint(key, flow, reply, from));
      upstream.on('error', () => {
        this.#flows.delete(key);
        this.#end(flow, 'error');
      });
    }
    for (const evicted of this.#flows.add(key, flow)) this.#end(evicted, 'closed');
    return flow;
  }

  #fromEndpoint(key: string, flow: UdpFlow, reply: Buffer, from: RemoteInfo): void {
    const endpoint = flow.forward?.endpoint.endpoint;
    // The flow's socket is bound to an ephemeral port: only its endpoint may answer through it.
    if (!endpoint || from.port !== endpoint.port || normalizeIp(from.address) !== normalizeIp(endpoint.ip)) return;
    this.#flows.touch(key, performance.now());
    flow.bytesOut += reply.length;
    this.#socket.send(reply, flow.client.port, flow.client.address);
  }

  #expireIdle(): void {
    for (const flow of this.#flows.expire(performance.now() - this.#context.idleTimeoutMs)) {
      this.#end(flow, 'idle-timeout');
    }
  }

  /** Closes a forwarding flow's socket and records it; dropped flows were recorded when opened. */
  #end(flow: UdpFlow, outcome: Outcome): void {
    if (!flow.forward) return;
    const { upstream, endpoint } = flow.forward;
    upstream.removeAllListeners('message');
    upstream.removeAllListeners('error');
    upstream.on('error', () => undefined);
    try {
      upstream.close();
    } catch {
      return; // already closed: this flow has been ended and recorded
    }
    endpoint.end(outcome === 'error');
    this.#record(flow, outcome);
  }

  #record(flow: UdpFlow, outcome: Outcome): void {
    const { port, authz } = flow;
    this.#context.telemetry.connection({
      protocol: 'udp',
      sourceNamespace: authz.identity?.namespace ?? '',
      sourceIdentity: authz.identity ? `${authz.identity.namespace}/${authz.identity.serviceAccount}` : null,
      sourceIp: flow.sourceIp,
      destinationNamespace: port.service.namespace,
      destinationService: port.service.name,
      destinationPort: port.port.port,
      backend: flow.forward?.backend.backend.service ?? null,
      endpoint: flow.forward?.endpoint.key ?? null,
      outcome,
      bytesIn: flow.bytesIn,
      bytesOut: flow.bytesOut,
      durationSeconds: (performance.now() - flow.started) / 1000,
    });
  }
}
