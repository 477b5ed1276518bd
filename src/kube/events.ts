/**
 * Kubernetes Events for config problems, on the objects they are about. Deduplicated: the Event
 * name is derived from (object, message), so one problem is one Event whatever the number of
 * agents, leader changes or restarts; reporting it again bumps its count.
 */
import { createHash } from 'node:crypto';
import type { Problem } from '../routing/problem.js';
import { ApiClient, KubeApiError } from './api-client.js';

export const EVENT_REASON = 'PlexusConfigProblem';
export const EVENT_COMPONENT = 'plexus-agent';

/** API versions of the kinds Plexus reports on (for involvedObject.apiVersion). */
const API_VERSIONS: Readonly<Record<string, string>> = {
  Service: 'v1', Pod: 'v1', Namespace: 'v1', Endpoints: 'v1', EndpointSlice: 'discovery.k8s.io/v1',
};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** metav1.Time: RFC 3339 to the second. */
function time(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function eventName(p: Problem): string {
  const digest = createHash('sha256').update(`${p.kind}/${p.namespace}/${p.name}\n${p.message}`).digest('hex').slice(0, 16);
  const base = p.name.toLowerCase();
  return DNS1123_SUBDOMAIN.test(base) && base.length <= 200 ? `${base}.${digest}` : `plexus.${digest}`;
}

/** The namespace an Event about `p` lives in (cluster-scoped objects: `default`, as kubectl does). */
function eventNamespace(p: Problem): string {
  return p.namespace || 'default';
}

export class EventRecorder {
  readonly #client: ApiClient;
  readonly #host: string;
  /** Problems already reported (while they persist, they are not reported again). */
  #reported = new Set<string>();

  constructor(client: ApiClient, host: string) {
    this.#client = client;
    this.#host = host;
  }

  /**
   * Reports the problems not reported in the previous call; problems that went away are
   * forgotten, so one that comes back is reported (its Event's count bumped) again.
   * Problems about objects without a name cannot carry an Event and are skipped.
   */
  async report(problems: readonly Problem[]): Promise<void> {
    const current = new Set<string>();
    for (const p of problems) {
      if (p.name === '' || p.name === '(unnamed)') continue;
      const key = eventName(p) + eventNamespace(p);
      current.add(key);
      if (this.#reported.has(key)) continue;
      try {
        await this.#record(p);
      } catch {
        // Not reported now: it will be retried on the next report.
        current.delete(key);
      }
    }
    this.#reported = current;
  }

  async #record(p: Problem): Promise<void> {
    const namespace = eventNamespace(p);
    const name = eventName(p);
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const now = time(new Date());
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { kind: p.kind, name: p.name, ...(p.namespace ? { namespace: p.namespace } : {}), ...(API_VERSIONS[p.kind] ? { apiVersion: API_VERSIONS[p.kind] } : {}) },
      reason: EVENT_REASON,
      message: p.message,
      type: p.severity === 'error' ? 'Warning' : 'Normal',
      source: { component: EVENT_COMPONENT, host: this.#host },
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: this.#host,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.#client.request('POST', path, { body: event });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.reason === 'AlreadyExists')) throw error;
      const existing = (await this.#client.get(`${path}/${encodeURIComponent(name)}`)) as { count?: unknown };
      const count = typeof existing.count === 'number' ? existing.count + 1 : 2;
      await this.#client.request('PATCH', `${path}/${encodeURIComponent(name)}`, {
        body: { count, lastTimestamp: now },
        contentType: 'application/merge-patch+json',
      });
    }
  }
}
