/**
 * An API server that cannot be reached at all (refused, unknown host, timed out, TLS failure)
 * fails every call the same way, so the CLI commands that talk to it (prepare, check, cleanup,
 * ca) stop at the first such failure with one line naming the server and the reason, instead of
 * one identical failure per step.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { CliError, EXIT } from './errors.js';

/** Socket and DNS error codes, in the words kubectl and curl users know. */
const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved (temporary DNS failure)',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
};

/** A certificate the client would not accept: the server answered, but not as one we may talk to. */
const TLS_CODE = /^(ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|ERR_SSL_)/;

/**
 * Why the API server could not be reached, when `err` says so (client-node's fetch throws
 * `TypeError: fetch failed` with the socket error as its cause); null for anything else,
 * including any answer from the server.
 */
export function unreachableReason(err: unknown): string | null {
  if (!(err instanceof Error) || err.message !== 'fetch failed') return null;
  const cause = err.cause;
  if (!(cause instanceof Error)) return 'the request failed before the server answered';
  const code = (cause as NodeJS.ErrnoException).code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  if (code !== undefined && TLS_CODE.test(code)) return `TLS: ${cause.message}`;
  return cause.message;
}

/** The API server address of the kubeconfig's current context. */
export function apiServerOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? 'the configured address';
}

export class ApiUnreachableError extends CliError {
  constructor(server: string, reason: string) {
    super(`cannot reach the API server at ${server}: ${reason}`, EXIT.FAILURE);
    this.name = 'ApiUnreachableError';
  }
}

/** Throws ApiUnreachableError when `err` means the API server cannot be reached; returns otherwise. */
export function stopIfUnreachable(kc: KubeConfig, err: unknown): void {
  const reason = unreachableReason(err);
  if (reason !== null) throw new ApiUnreachableError(apiServerOf(kc), reason);
}
