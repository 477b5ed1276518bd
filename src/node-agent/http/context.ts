/**
 * What the HTTP proxies need from the agent, and what they give back to it: a handler that
 * takes over accepted client sockets of one listener.
 */
import type * as net from 'node:net';
import type { Dialer } from '../runtime/dialer.js';
import type { PortRuntime } from '../runtime/types.js';
import type { MirrorSender } from './mirror/mirror-sender.js';
import type { Telemetry } from '../telemetry/types.js';
import type { HttpLimits } from './limits.js';
import type { PathPolicy } from './request-target.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface HttpProxyContext {
  /** The runtime for a request starting now; captured once per request (the agent swaps it on reload). */
  current(): PortRuntime;
  /** Receives one RequestRecord per request (or h2 stream). */
  readonly telemetry: Telemetry;
  readonly limits: HttpLimits;
  /** How request paths are normalised (request-target.ts). */
  readonly paths: PathPolicy;
  /** Shared by the whole agent, keyed by endpoint `ip:port`; survives reloads. */
  readonly upstreams: UpstreamPool;
  /** Gateway API RequestMirror copies, bounded agent-wide. */
  readonly mirrors: MirrorSender;
  /** Direct when absent; secure mode's tunnel for endpoints on other nodes. */
  readonly dialer?: Dialer;
}

export interface ConnectionHandler {
  /** Takes ownership of an accepted client socket. */
  handle(socket: net.Socket): void;
  /**
   * Stops keep-alive reuse, closes idle connections, and resolves once the requests in flight
   * have finished (established WebSocket tunnels are not waited for; `destroy()` ends them).
   */
  drain(): Promise<void>;
  /**
   * Draining starts (the agent is stopping, its endpoint is being removed): keep accepting, but
   * end every connection, new ones included, after its current exchange (HTTP/1.1: the response
   * says `Connection: close`; HTTP/2: GOAWAY), so keep-alive clients reconnect, elsewhere once
   * kube-proxy has moved, without a request lost on a connection closed under them.
   */
  closeAfterExchange(): void;
  /** Force-closes every connection. */
  destroy(): void;
  readonly activeConnections: number;
}
