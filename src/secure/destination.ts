/**
 * The destination agent's side of secure mode: which tunnel streams it accepts, and the per-request
 * authorization of HTTP ports. The caller's identity is the verified certificate's `ns/sa`, nothing
 * else: X-Forwarded-For and any other header are forwarded to the pod untouched and never read.
 *
 * - A stream must name a Service port of this agent's config (`plexus-service`) and a pod endpoint
 *   of that port's destinations scheduled on this node; anything else is refused, so the tunnel is
 *   no open relay.
 * - TCP and h2c ports are authorized per stream (L4): rules without HTTP matches grant them.
 * - HTTP ports: each request on the stream is parsed with the data plane's parser, its target
 *   normalised (the agent's path policy; 400 when it cannot be read one way only), checked against
 *   the port's TrafficTarget rules (HTTPRouteGroup matches) with the stream's identity, then
 *   forwarded as normalised to the pod on the stream's own pod connection (http-gate.ts).
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { MeshConfig, MeshPort, MeshService } from '../routing/mesh-config.js';
import { portKey } from '../routing/mesh-config.js';
import { DEFAULT_HTTP_LIMITS } from '../node-agent/http/limits.js';
import type { PathPolicy } from '../node-agent/http/request-target.js';
import { compileAccessRules, type AccessCheck } from '../node-agent/runtime/access-rules.js';
import type { HttpRequestInfo } from '../node-agent/runtime/types.js';
import { type GateOptions, serveHttpStream } from './http-gate.js';
import type { SecureMetrics } from './metrics.js';
import { formatAuthority, type TunnelTarget } from './tunnel/protocol.js';
import type { TunnelDecision } from './tunnel/server.js';

interface PortEntry {
  readonly service: MeshService;
  readonly port: MeshPort;
  readonly key: string;
  /** Pod endpoints (`ip:port`) of this node among the port's destinations. */
  readonly localEndpoints: ReadonlySet<string>;
  /** The port's access rules (the node agent's compiler). */
  readonly access: AccessCheck;
}

/** An idle HTTP stream is closed after one to two times this (as a keep-alive client connection). */
const HTTP_STREAM_IDLE_MS = 60_000;
const POD_CONNECT_TIMEOUT_MS = 10_000;

export interface DestinationOptions {
  readonly nodeName: string;
  readonly acl: boolean;
  /**
   * How request paths are normalised before they are authorized and forwarded: the source
   * agent normalised them already, but the destination authorizes and must not trust it.
   */
  readonly paths: PathPolicy;
  readonly logger: Logger;
  readonly metrics: SecureMetrics;
}

export class DestinationPolicy {
  readonly #options: DestinationOptions;
  readonly #gate: GateOptions;
  /** HTTP streams being served (each with its pod connection). */
  readonly #streams = new Set<Duplex>();
  #ports = new Map<string, PortEntry>();

  constructor(options: DestinationOptions) {
    this.#options = options;
    this.#gate = { paths: options.paths, maxHeaderBytes: DEFAULT_HTTP_LIMITS.maxHeaderBytes, idleTimeoutMs: HTTP_STREAM_IDLE_MS, connectTimeoutMs: POD_CONNECT_TIMEOUT_MS };
  }

  /** The config every new stream and request is judged by (TrafficTarget changes apply at once). */
  setConfig(config: MeshConfig): void {
    const ports = new Map<string, PortEntry>();
    for (const service of config.services) {
      for (const port of service.ports) {
        const key = portKey(service.namespace, service.name, port.port, port.protocol);
        ports.set(key, { service, port, key, localEndpoints: localEndpointsOf(port, config.nodeName), access: compileAccessRules(port.access, key) });
      }
    }
    this.#ports = ports;
  }

  /** The TunnelServer's `authorize`. */
  readonly authorize = (identity: string | null, target: TunnelTarget): TunnelDecision => {
    const entry = target.service === null ? undefined : this.#ports.get(target.service);
    const destination = entry?.key ?? 'unknown';
    if (entry === undefined) return { allowed: false, reason: `no meshed Service port ${target.service ?? '(none named)'} here`, destination };
    const endpoint = formatAuthority(target.host, target.port);
    if (!entry.localEndpoints.has(endpoint)) {
      return { allowed: false, reason: `${endpoint} is not an endpoint of ${entry.key} on node ${this.#options.nodeName}`, destination };
    }
    if (entry.port.trafficType === 'udp') return { allowed: false, reason: 'UDP is not carried by the tunnel', destination };
    // HTTP ports: the stream only opens the way; each request on it is authorized in #judge.
    if (entry.port.trafficType === 'http' && entry.port.scheme === 'http') {
      return { allowed: true, reason: 'HTTP: authorized per request', destination, perRequest: true };
    }
    return this.#decide(entry, identity, null);
  };

  /** The TunnelServer's `deliver`: HTTP ports go to the per-request authorizer, the rest are L4 relays. */
  readonly deliver = (identity: string | null, target: TunnelTarget): ((stream: Duplex) => void) | null => {
    const entry = target.service === null ? undefined : this.#ports.get(target.service);
    if (entry === undefined || entry.port.trafficType !== 'http' || entry.port.scheme !== 'http') return null;
    const key = entry.key;
    const judge = (request: HttpRequestInfo): string | null => this.#judge(identity, key, request);
    return (stream) => {
      this.#streams.add(stream);
      stream.once('close', () => this.#streams.delete(stream));
      serveHttpStream(stream, target.host, target.port, judge, this.#gate);
    };
  };

  /** Cuts the HTTP streams still open, and their pod connections. */
  close(): void {
    for (const stream of this.#streams) stream.destroy();
    this.#streams.clear();
  }

  #decide(entry: PortEntry, identity: string | null, request: HttpRequestInfo | null): TunnelDecision {
    const destination = entry.key;
    if (!this.#options.acl) return { allowed: true, reason: 'ACL mode off', destination };
    if (identity === null) return { allowed: false, reason: 'a plaintext caller has no identity to authorize', destination };
    const verdict = entry.access(identity, request);
    return { allowed: verdict.allowed, reason: verdict.reason, destination };
  }

  /** One request of an HTTP stream, by the config of now: null when allowed, else why not. */
  #judge(identity: string | null, key: string, request: HttpRequestInfo): string | null {
    const entry = this.#ports.get(key);
    if (entry === undefined) return 'the Service port is no longer meshed here';
    const decision = this.#decide(entry, identity, request);
    this.#options.metrics.authorization(identity ?? 'plaintext', decision.destination, decision.allowed);
    if (decision.allowed) return null;
    this.#options.logger.info({ source: identity, destination: key, method: request.method, path: request.path, reason: decision.reason },
      'tunnel: request refused');
    return decision.reason;
  }
}

/** Endpoints with no node are on every node (local mode's rule for pods without `spec.nodeName`). */
function localEndpointsOf(port: MeshPort, nodeName: string): Set<string> {
  const endpoints = new Set<string>();
  const destinations = [port.destination, ...port.rules.map((rule) => rule.destination)];
  for (const destination of destinations) {
    if (destination.kind !== 'backends') continue;
    for (const backend of destination.backends) {
      for (const endpoint of backend.endpoints) {
        if (endpoint.nodeName === null || endpoint.nodeName === nodeName) endpoints.add(formatAuthority(endpoint.ip, endpoint.port));
      }
    }
  }
  return endpoints;
}
