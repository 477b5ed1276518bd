/** `meta/v1 Status` errors, shaped and worded like the real API server's. */
import type { Cause } from './validation.js';

/** metav1.StatusCause (`field` is absent for causes about the request as a whole). */
export interface StatusCause {
  readonly field?: string;
  readonly reason: string;
  readonly message: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export interface Status {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message: string;
  readonly reason: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  const status: Status = details
    ? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code }
    : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  return new ApiError(status);
}

/** `services "web"` (with the group for non-core kinds: `leases.coordination.k8s.io "x"`). */
function qualified(plural: string, group: string, name: string): string {
  return `${group ? `${plural}.${group}` : plural} "${name}"`;
}

export function notFound(plural: string, group: string, name: string): ApiError {
  return failure(404, 'NotFound', `${qualified(plural, group, name)} not found`, { name, group, kind: plural });
}

export function alreadyExists(plural: string, group: string, name: string): ApiError {
  return failure(409, 'AlreadyExists', `${qualified(plural, group, name)} already exists`, { name, group, kind: plural });
}

export function conflict(plural: string, group: string, name: string, why: string): ApiError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(plural, group, name)}: ${why}`, { name, group, kind: plural });
}

export function invalid(kind: string, group: string, name: string, causes: readonly Cause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return failure(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`, { name, group, kind, causes });
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

/** storage.NewTooLargeResourceVersionError: a read at a resourceVersion the server has not reached. */
export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return failure(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** ListOptions the real server refuses (422 on `ListOptions.meta.k8s.io`). */
export function invalidListOptions(field: string, message: string): ApiError {
  return failure(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${message}`, {
    group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ field, reason: 'FieldValueForbidden', message: `Forbidden: ${message}` }],
  });
}

export function gone(message: string): ApiError {
  return failure(410, 'Expired', message);
}
