/**
 * The destination agent's side of secure mode: which tunnel streams it accepts, and the per-request
 * authorization of HTTP ports. The caller's identity is the verified certificate's `ns/sa`, nothing
 * else: X-Forwarded-For and any other header are forwarded to the pod untouched and never read.
 *
 * - A stream must name a Service port of this agent's config (`plexus-service`) and a pod endpoint
 *   of that port's destinations scheduled on this node; anything else is refused, so the tunnel is
 *   no open relay.
 * - TCP and h2c ports are authorized per stream (L4): rules without HTTP matches grant them.
 * - HTTP ports are served by a Node HTTP server fed the stream: each request target is normalised
 *   (node-agent/http/request-target.ts, the agent's path policy; 400 when it cannot be read one way
 *   only), checked against the port's TrafficTarget rules (HTTPRouteGroup matches) with the
 *   stream's identity, then forwarded as normalised to the pod on a keep-alive connection.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { MeshConfig, MeshPort, MeshService } from '../routing/mesh-config.js';
import { portKey } from '../routing/mesh-config.js';
import { checkTargetCharacters, normalizeTarget, type PathPolicy, type RequestTarget } from '../node-agent/http/request-target.js';
import { compileAccessRules, type AccessCheck } from '../node-agent/runtime/access-rules.js';
import type { HttpRequestInfo } from '../node-agent/runtime/types.js';
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

interface StreamContext {
  readonly identity: string | null;
  readonly target: TunnelTarget;
}

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
  #ports = new Map<string, PortEntry>();
  readonly #streams = new WeakMap<object, StreamContext>();
  readonly #http: Server;
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });

  constructor(options: DestinationOptions) {
    this.#options = options;
    this.#http = createServer({ keepAliveTimeout: 60_000 }, (req, res) => this.#onRequest(req, res));
    this.#http.on('clientError', (_err, socket) => socket.destroy());
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
    // HTTP ports: the stream only opens the way; each request on it is authorized in #onRequest.
    if (entry.port.trafficType === 'http' && entry.port.scheme === 'http') {
      return { allowed: true, reason: 'HTTP: authorized per request', destination, perRequest: true };
    }
    return this.#decide(entry, identity, null);
  };

  /** The TunnelServer's `deliver`: HTTP ports go to the per-request authorizer, the rest are L4 relays. */
  readonly deliver = (identity: string | null, target: TunnelTarget): ((stream: Duplex) => void) | null => {
    const entry = target.service === null ? undefined : this.#ports.get(target.service);
    if (entry === undefined || entry.port.trafficType !== 'http' || entry.port.scheme !== 'http') return null;
    return (stream) => {
      this.#streams.set(stream, { identity, target });
      this.#http.emit('connection', stream);
    };
  };

  close(): void {
    this.#http.close();
    this.#http.closeAllConnections();
    this.#agent.destroy();
  }

  #decide(entry: PortEntry, identity: string | null, request: HttpRequestInfo | null): TunnelDecision {
    const destination = entry.key;
    if (!this.#options.acl) return { allowed: true, reason: 'ACL mode off', destination };
    if (identity === null) return { allowed: false, reason: 'a plaintext caller has no identity to authorize', destination };
    const verdict = entry.access(identity, request);
    return { allowed: verdict.allowed, reason: verdict.reason, destination };
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const context = this.#streams.get(req.socket);
    const target = context?.target;
    const entry = target?.service == null ? undefined : this.#ports.get(target.service);
    if (context === undefined || target === undefined || entry === undefined) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: the Service port is no longer meshed here\n');
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    let normalized: RequestTarget;
    try {
      checkTargetCharacters(req.url ?? '/');
      normalized = normalizeTarget(req.url ?? '/', method, this.#options.paths);
    } catch (err) {
      const body = `bad request: ${err instanceof Error ? err.message : String(err)}\n`;
      res.writeHead(400, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
      return;
    }
    // Authorized and forwarded as normalised: the pod sees the path the rule was checked against.
    const url = normalized.target;
    const query = url.indexOf('?');
    const info: HttpRequestInfo = {
      method,
      path: normalized.path,
      query: query === -1 ? '' : url.slice(query + 1),
      header: (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
    };
    const decision = this.#decide(entry, context.identity, info);
    this.#options.metrics.authorization(context.identity ?? 'plaintext', decision.destination, decision.allowed);
    if (!decision.allowed) {
      this.#options.logger.info({ source: context.identity, destination: entry.key, method: info.method, path: info.path, reason: decision.reason },
        'tunnel: request refused');
      const body = `forbidden: ${decision.reason}\n`;
      res.writeHead(403, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    const upstream = httpRequest({
      host: target.host, port: target.port, method: req.method, path: url, agent: this.#agent,
      // An absolute-form target's authority replaces Host, as on the source side.
      headers: normalized.authority === null ? req.headers : { ...req.headers, host: normalized.authority },
    }, (response) => {
      res.writeHead(response.statusCode ?? 502, response.statusMessage, response.rawHeaders);
      response.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = `bad gateway: pod ${formatAuthority(target.host, target.port)}: ${err.message}\n`;
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
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
