/**
 * The tunnel protocol (HBONE-style): mutual TLS 1.3, ALPN `h2`, one HTTP/2 connection per
 * (source identity, destination agent), one stream per proxied connection. A stream opens with
 * `CONNECT` (RFC 9113 §8.5) whose `:authority` is the destination pod endpoint `ip:port`; the
 * answer is `200` and then raw bytes both ways, or an error status with `plexus-reason`.
 * The caller's identity is its certificate's SPIFFE ID and nothing else: no request header can
 * claim one (X-Forwarded-For and the like are never read).
 */
import { isIP } from 'node:net';

export const TUNNEL_ALPN = 'h2';
/** The destination Service port the stream is for (`namespace/name:port/PROTOCOL`), informational for authorization and metrics. */
export const SERVICE_HEADER = 'plexus-service';
/** Why a stream was refused (non-200 answers). */
export const REASON_HEADER = 'plexus-reason';

/** Where a stream goes: a pod endpoint on the destination's node. */
export interface TunnelTarget {
  readonly host: string;
  readonly port: number;
  /** `namespace/name:port/PROTOCOL` of the Service port, when the caller named one. */
  readonly service: string | null;
}

/** `ip:port`, brackets around IPv6. */
export function formatAuthority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `:authority` → IP literal and port, or null when it is anything else (no names: the tunnel never resolves). */
export function parseAuthority(authority: string | undefined): { host: string; port: number } | null {
  if (authority === undefined) return null;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(authority);
  if (match === null) return null;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (isIP(host) === 0 || port < 1 || port > 65535) return null;
  return { host, port };
}

/** Large windows: the tunnel carries bulk data, and HTTP/2's 64 KiB defaults throttle it. */
export const STREAM_WINDOW_BYTES = 1 << 20;
export const SESSION_WINDOW_BYTES = 16 << 20;
