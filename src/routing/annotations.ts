/**
 * The `plexus.dev/*` annotations (docs/annotations.md). Each value is validated on its own: a
 * bad one is a problem on its object and the default applies. Unknown keys under the prefix are
 * warned about, because they are most likely typos of a real one.
 */
import type { LoadBalancer, Policy, Scheme, TrafficType } from './mesh-config.js';
import { parseDurationMs } from './duration.js';
import type { Problem } from '../model/problem.js';
import { ProblemSink } from './problem-sink.js';

export interface ServiceAnnotations {
  /** `plexus.dev/mesh`: true / false, or null when absent or invalid (the namespace decides). */
  readonly mesh: boolean | null;
  /** `plexus.dev/own-names`: true / false, or null when absent or invalid (the namespace decides). */
  readonly ownNames: boolean | null;
  /** `plexus.dev/traffic-type`, null when absent or invalid. */
  readonly trafficType: TrafficType | null;
  readonly scheme: Scheme;
  readonly policy: Policy;
  /** Problems that matter only when the Service is meshed (bad policy values, …). */
  readonly meshedProblems: readonly Problem[];
}

export const ANNOTATION_PREFIX = 'plexus.dev/';

export const ANNOTATIONS = {
  mesh: 'plexus.dev/mesh',
  ownNames: 'plexus.dev/own-names',
  trafficType: 'plexus.dev/traffic-type',
  scheme: 'plexus.dev/scheme',
  retryAttempts: 'plexus.dev/retry-attempts',
  timeout: 'plexus.dev/timeout',
  loadBalancer: 'plexus.dev/load-balancer',
  circuitBreakerErrors: 'plexus.dev/circuit-breaker-consecutive-errors',
  circuitBreakerEjection: 'plexus.dev/circuit-breaker-ejection',
  rateLimitAverage: 'plexus.dev/rate-limit-average',
  rateLimitBurst: 'plexus.dev/rate-limit-burst',
} as const;

const SERVICE_KEYS: ReadonlySet<string> = new Set(Object.values(ANNOTATIONS));
const NAMESPACE_KEYS: ReadonlySet<string> = new Set([ANNOTATIONS.mesh, ANNOTATIONS.ownNames]);

export const DEFAULT_POLICY: Policy = {
  retryAttempts: 0, timeoutMs: 0, loadBalancer: 'round-robin', circuitBreaker: null, rateLimit: null,
};
export const DEFAULT_CIRCUIT_BREAKER_EJECTION_MS = 30_000;
export const MAX_RETRY_ATTEMPTS = 10;

type Annotations = Readonly<Record<string, string>>;

/**
 * Warns about every `plexus.dev/` key that is not one of `known`, and about values written
 * unquoted in YAML (Kubernetes itself would refuse them; Plexus reads them as text).
 */
function checkKeys(annotations: Annotations, unquoted: readonly string[], known: ReadonlySet<string>, sink: ProblemSink): void {
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(ANNOTATION_PREFIX) && !known.has(key)) {
      sink.warning(`unknown annotation ${key} (ignored; see docs/annotations.md)`);
    }
  }
  for (const key of unquoted) {
    if (key.startsWith(ANNOTATION_PREFIX)) sink.warning(`${key}: ${annotations[key]} is not a string; read as "${annotations[key]}" (quote it: Kubernetes rejects it as is)`);
  }
}

function readBoolean(annotations: Annotations, key: string, sink: ProblemSink): boolean | null {
  const value = annotations[key];
  if (value === undefined) return null;
  if (value === 'true') return true;
  if (value === 'false') return false;
  sink.error(`${key}: "${value}" is not "true" or "false" (ignored)`);
  return null;
}

/** `plexus.dev/mesh`, `plexus.dev/own-names` and unknown-key warnings of a Namespace. */
export function readNamespaceAnnotations(
  annotations: Annotations, unquoted: readonly string[], sink: ProblemSink,
): { readonly mesh: boolean | null; readonly ownNames: boolean | null } {
  checkKeys(annotations, unquoted, NAMESPACE_KEYS, sink);
  return { mesh: readBoolean(annotations, ANNOTATIONS.mesh, sink), ownNames: readBoolean(annotations, ANNOTATIONS.ownNames, sink) };
}

function readChoice<T extends string>(
  annotations: Annotations, key: string, choices: readonly T[], sink: ProblemSink,
): T | null {
  const value = annotations[key];
  if (value === undefined) return null;
  if ((choices as readonly string[]).includes(value)) return value as T;
  sink.error(`${key}: "${value}" is not one of ${choices.join(', ')} (default applies)`);
  return null;
}

const INTEGER = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

function readInteger(annotations: Annotations, key: string, min: number, max: number, sink: ProblemSink): number | null {
  const value = annotations[key];
  if (value === undefined) return null;
  const n = INTEGER.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
  sink.error(`${key}: "${value}" is not an integer ${range} (default applies)`);
  return null;
}

function readPositiveDecimal(annotations: Annotations, key: string, sink: ProblemSink): number | null {
  const value = annotations[key];
  if (value === undefined) return null;
  const n = DECIMAL.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (Number.isFinite(n) && n > 0) return n;
  sink.error(`${key}: "${value}" is not a number > 0 (default applies)`);
  return null;
}

function readDuration(annotations: Annotations, key: string, sink: ProblemSink): number | null {
  const value = annotations[key];
  if (value === undefined) return null;
  const ms = parseDurationMs(value.trim());
  if (ms !== null && ms > 0) return ms;
  sink.error(`${key}: "${value}" is not a duration > 0 such as "2s", "500ms" or "1m30s" (default applies)`);
  return null;
}

function readPolicy(annotations: Annotations, sink: ProblemSink): Policy {
  const retryAttempts = readInteger(annotations, ANNOTATIONS.retryAttempts, 0, MAX_RETRY_ATTEMPTS, sink);
  const timeoutMs = readDuration(annotations, ANNOTATIONS.timeout, sink);
  const loadBalancer = readChoice<LoadBalancer>(annotations, ANNOTATIONS.loadBalancer, ['round-robin', 'least-request'], sink);

  const consecutiveErrors = readInteger(annotations, ANNOTATIONS.circuitBreakerErrors, 1, Number.MAX_SAFE_INTEGER, sink);
  const ejectionMs = readDuration(annotations, ANNOTATIONS.circuitBreakerEjection, sink);
  if (consecutiveErrors === null && annotations[ANNOTATIONS.circuitBreakerEjection] !== undefined) {
    sink.warning(`${ANNOTATIONS.circuitBreakerEjection} has no effect without a valid ${ANNOTATIONS.circuitBreakerErrors}`);
  }

  const average = readPositiveDecimal(annotations, ANNOTATIONS.rateLimitAverage, sink);
  const burst = readInteger(annotations, ANNOTATIONS.rateLimitBurst, 1, Number.MAX_SAFE_INTEGER, sink);
  if (average === null && annotations[ANNOTATIONS.rateLimitBurst] !== undefined) {
    sink.warning(`${ANNOTATIONS.rateLimitBurst} has no effect without a valid ${ANNOTATIONS.rateLimitAverage}`);
  }

  return {
    retryAttempts: retryAttempts ?? DEFAULT_POLICY.retryAttempts,
    timeoutMs: timeoutMs ?? DEFAULT_POLICY.timeoutMs,
    loadBalancer: loadBalancer ?? DEFAULT_POLICY.loadBalancer,
    circuitBreaker: consecutiveErrors === null
      ? null
      : { consecutiveErrors, ejectionMs: ejectionMs ?? DEFAULT_CIRCUIT_BREAKER_EJECTION_MS },
    rateLimit: average === null
      ? null
      : { average, burst: burst ?? Math.max(1, Math.ceil(average)) },
  };
}

/**
 * Every `plexus.dev/*` annotation of a Service. Unknown keys and a bad `mesh` value are reported
 * through `sink` (always); problems with the other values only matter once the Service is
 * meshed, so they are returned apart in `meshedProblems`.
 */
export function readServiceAnnotations(
  annotations: Annotations, unquoted: readonly string[], sink: ProblemSink, meshedSink: ProblemSink,
): ServiceAnnotations {
  checkKeys(annotations, unquoted, SERVICE_KEYS, sink);
  const mesh = readBoolean(annotations, ANNOTATIONS.mesh, sink);
  const ownNames = readBoolean(annotations, ANNOTATIONS.ownNames, sink);
  const trafficType = readChoice<TrafficType>(annotations, ANNOTATIONS.trafficType, ['http', 'tcp', 'udp'], meshedSink);
  const scheme = readChoice<Scheme>(annotations, ANNOTATIONS.scheme, ['http', 'h2c'], meshedSink) ?? 'http';
  const policy = readPolicy(annotations, meshedSink);
  const meshedProblems: readonly Problem[] = meshedSink.problems;
  return { mesh, ownNames, trafficType, scheme, policy, meshedProblems };
}
