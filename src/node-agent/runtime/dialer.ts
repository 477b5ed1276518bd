/**
 * How the data plane reaches an endpoint. By default it dials the pod directly; secure mode
 * (src/secure/) supplies a dialer that sends endpoints on other nodes through the mTLS tunnel of
 * the caller's identity, and refuses what it cannot send that way (fail closed).
 * A `via` path has its own pool key, so a pooled connection never carries another identity.
 */
import type * as net from 'node:net';
import type { Endpoint, SourceIdentity } from '../../routing/mesh-config.js';
import type { PortRuntime } from './types.js';

export type UpstreamPath =
  | { readonly kind: 'direct' }
  | { readonly kind: 'via'; readonly key: string; readonly connect: () => net.Socket }
  | { readonly kind: 'refused'; readonly reason: string };

/** `port` is the Service port that routed the request: the destination authorizes against its rules. */
export type Dialer = (endpoint: Endpoint, source: SourceIdentity | null, port: PortRuntime) => UpstreamPath;

const DIRECT_PATH: UpstreamPath = Object.freeze({ kind: 'direct' });
export const DIRECT_DIALER: Dialer = () => DIRECT_PATH;
