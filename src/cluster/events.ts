/**
 * Kubernetes Events for config problems, on the objects they are about. Deduplicated: the Event
 * name is derived from (object, uid, message), so one problem is one Event whatever the number of
 * agents, leader changes or restarts (an object deleted and re-created is a new object). A problem that goes away and comes back bumps its count;
 * a new leader finding the Event of a problem that still stands (it lists the Plexus Events once)
 * leaves it as it is.
 *
 * `involvedObject` carries the object's apiVersion and uid from the snapshot: `kubectl describe`
 * selects Events by `involvedObject.uid`, so an Event without it would never be shown there.
 */
import { createHash } from 'node:crypto';
import type { Problem } from '../model/problem.js';
import type { RawObject } from '../model/snapshot.js';
import { ApiClient, KubeApiError } from '../kube/api-client.js';

export const EVENT_REASON = 'PlexusConfigProblem';
export const EVENT_COMPONENT = 'plexus-agent';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface InvolvedObject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly apiVersion?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/** metav1.Time: RFC 3339 to the second. */
function time(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function eventName(p: Problem, uid = ''): string {
  const digest = createHash('sha256').update(`${p.kind}/${p.namespace}/${p.name}\n${uid ? `${uid}\n` : ''}${p.message}`).digest('hex').slice(0, 16);
  const base = p.name.toLowerCase();
  return DNS1123_SUBDOMAIN.test(base) && base.length <= 200 ? `${base}.${digest}` : `plexus.${digest}`;
}

/** The namespace an Event about `p` lives in (cluster-scoped objects: `default`, as kubectl does). */
function eventNamespace(p: Problem): string {
  return p.namespace || 'default';
}

function refKey(kind: string, namespace: string, name: string): string {
  return `${kind}\n${namespace}\n${name}`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The objects problems can be about, by kind, namespace and name. */
export function indexObjects(objects: readonly RawObject[]): ReadonlyMap<string, RawObject> {
  const index = new Map<string, RawObject>();
  for (const object of objects) {
    const metadata = (object.metadata ?? {}) as Record<string, unknown>;
    const kind = text(object.kind);
    const name = text(metadata.name);
    if (kind && name) index.set(refKey(kind, text(metadata.namespace) ?? '', name), object);
  }
  return index;
}

/** The Event's involvedObject for `p`: identity from the object itself when it is known. */
export function involvedObject(p: Problem, index: ReadonlyMap<string, RawObject>): InvolvedObject {
  const object = index.get(refKey(p.kind, p.namespace, p.name));
  const metadata = (object?.metadata ?? {}) as Record<string, unknown>;
  const apiVersion = text(object?.apiVersion);
  const uid = text(metadata.uid);
  const resourceVersion = text(metadata.resourceVersion);
  return {
    kind: p.kind,
    name: p.name,
    ...(p.namespace ? { namespace: p.namespace } : {}),
    ...(apiVersion ? { apiVersion } : {}),
    ...(uid ? { uid } : {}),
    ...(resourceVersion ? { resourceVersion } : {}),
  };
}

export class EventRecorder {
  readonly #client: ApiClient;
  readonly #host: string;
  /** Problems already reported (while they persist, they are not reported again). */
  #reported = new Set<string>();
  /** Every problem this recorder has reported: only these count as coming back. */
  readonly #ever = new Set<string>();
  /**
   * Plexus Events already in the cluster when this recorder first reported (an earlier leader's):
   * a standing problem's Event is found here, not by a create answered 409. Null: not listable.
   */
  #existing: ReadonlySet<string> | null | undefined;

  constructor(client: ApiClient, host: string) {
    this.#client = client;
    this.#host = host;
  }

  /**
   * Reports the problems not reported in the previous call; problems that went away are
   * forgotten, so one that comes back is reported (its Event's count bumped) again.
   * `objects` are the snapshot's objects, for the involved objects' identities.
   * Problems about objects without a name cannot carry an Event and are skipped.
   */
  async report(problems: readonly Problem[], objects: readonly RawObject[] = []): Promise<void> {
    const current = new Set<string>();
    let index: ReadonlyMap<string, RawObject> | null = null;
    for (const p of problems) {
      if (p.name === '' || p.name === '(unnamed)') continue;
      index ??= indexObjects(objects);
      const involved = involvedObject(p, index);
      const name = eventName(p, involved.uid);
      const key = `${eventNamespace(p)}/${name}`;
      current.add(key);
      if (this.#reported.has(key)) continue;
      if (this.#existing === undefined) this.#existing = await this.#listExisting();
      if (this.#existing?.has(key) && !this.#ever.has(key)) {
        // Written by an earlier leader for a problem that still stands: it already says so.
        this.#ever.add(key);
        continue;
      }
      try {
        await this.#record(p, name, involved, this.#ever.has(key));
        this.#ever.add(key);
      } catch {
        // Not reported now: it will be retried on the next report.
        current.delete(key);
      }
    }
    this.#reported = current;
  }

  /** The Plexus Events in the cluster (`namespace/name`), or null when they cannot be listed. */
  async #listExisting(): Promise<ReadonlySet<string> | null> {
    const keys = new Set<string>();
    let token: string | undefined;
    try {
      do {
        const query: Record<string, string> = { fieldSelector: `reason=${EVENT_REASON}`, limit: '500', ...(token ? { continue: token } : {}) };
        const page = (await this.#client.get('/api/v1/events', query)) as { items?: { metadata?: { namespace?: string; name?: string } }[]; metadata?: { continue?: string } };
        for (const item of page.items ?? []) keys.add(`${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`);
        token = page.metadata?.continue || undefined;
      } while (token);
    } catch {
      // Without `list` (an older RBAC) a create answered 409 says the same, one request each.
      return null;
    }
    return keys;
  }

  async #record(p: Problem, name: string, involved: InvolvedObject, cameBack: boolean): Promise<void> {
    const namespace = eventNamespace(p);
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const now = time(new Date());
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
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
      // Written by an earlier leader for a problem that still stands: it already says so.
      if (!cameBack) return;
      const existing = (await this.#client.get(`${path}/${encodeURIComponent(name)}`)) as { count?: unknown };
      const count = typeof existing.count === 'number' ? existing.count + 1 : 2;
      await this.#client.request('PATCH', `${path}/${encodeURIComponent(name)}`, {
        body: { count, lastTimestamp: now },
        contentType: 'application/merge-patch+json',
      });
    }
  }
}
