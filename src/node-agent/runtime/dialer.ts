/**
 * How the data plane reaches an endpoint. By default it dials the pod directly; secure mode
 * (src/secure/) supplies a dialer that sends endpoints on other nodes through the mTLS tunnel of
 * the caller's identity, and refuses what it cannot send that way (fail closed).
 * A `via` path has its own pool key, so a pooled connection never carries another identity.
 */
import type { Duplex } from 'node:stream';
import type { Endpoint, SourceIdentity } from '../../routing/mesh-config.js';
import type { PortRuntime } from './types.js';

/**
 * An upstream connection as the data plane uses it: a TCP socket, or a secure-mode tunnel stream.
 * It emits `connect` once bytes can flow (the tunnel: once the destination agent accepted the
 * stream), and `timeout` after `setTimeout`'s inactivity, as a socket does.
 */
export interface UpstreamSocket extends Duplex {
  setTimeout(ms: number): unknown;
}

export type UpstreamPath =
  | { readonly kind: 'direct' }
  | { readonly kind: 'via'; readonly key: string; readonly connect: () => UpstreamSocket }
  | { readonly kind: 'refused'; readonly reason: string };

/** `port` is the Service port that routed the request: the destination authorizes against its rules. */
export type Dialer = (endpoint: Endpoint, source: SourceIdentity | null, port: PortRuntime) => UpstreamPath;

const DIRECT_PATH: UpstreamPath = Object.freeze({ kind: 'direct' });
export const DIRECT_DIALER: Dialer = () => DIRECT_PATH;
