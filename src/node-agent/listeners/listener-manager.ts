/**
 * Keeps the bound listeners equal to a plan. A listener whose spec did not change is left
 * alone (its handler reads the live PortRuntime, so new traffic follows the new config); one
 * whose kind changed is closed and bound again; removed ones stop accepting and drain in the
 * background; new ones bind. A bind failure is reported, never thrown: the rest still serve,
 * and the next reconcile tries again.
 *
 * `update` does the same from a change (the specs of the Services that changed, before and
 * after) instead of a whole plan, touching only those listeners: at 10,000 Services one endpoint
 * change is a few map reads. It declines (null) whenever the running listeners may differ from
 * the last plan (a conflict or a failed bind to report or retry) or the change takes an address
 * another Service holds: then the caller reconciles the whole plan, which words the problem.
 */
import { problem, type Problem } from '../../model/problem.js';
import type { PortRuntime, RuntimePorts } from '../runtime/types.js';
import type { CurrentPort } from './connection-handler.js';
import type { RunningListener } from './listener.js';
import { sameListener, type ListenerKind, type ListenerPlan, type ListenerSpec, type PlanChange } from './plan.js';

/** Builds an unbound listener for a spec; `current` yields the live PortRuntime of its port. */
export type ListenerFactory = (spec: ListenerSpec, current: CurrentPort) => RunningListener;

export interface ReconcileResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
  /** Sorted when first read (10,000 ids at scale: only sorted for who asks). */
  readonly kept: readonly string[];
  /** How many were kept, without sorting them. */
  readonly keptCount: number;
  readonly failed: readonly { readonly listener: string; readonly error: string }[];
}

type Failure = { readonly listener: string; readonly error: string };

class Reconciled implements ReconcileResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
  readonly failed: readonly Failure[];
  #kept: string[];
  #sorted = false;

  constructor(lists: { added: string[]; removed: string[]; replaced: string[]; kept: string[]; failed: Failure[] }) {
    this.added = lists.added.sort();
    this.removed = lists.removed.sort();
    this.replaced = lists.replaced.sort();
    this.failed = lists.failed;
    this.#kept = lists.kept;
  }

  get keptCount(): number {
    return this.#kept.length;
  }

  get kept(): readonly string[] {
    if (!this.#sorted) this.#kept.sort();
    this.#sorted = true;
    return this.#kept;
  }
}

export class ListenerManager {
  readonly #running = new Map<string, RunningListener>();
  readonly #draining = new Set<Promise<void>>();
  readonly #factory: ListenerFactory;
  readonly #ports: () => RuntimePorts;
  readonly #drainTimeoutMs: number;
  /** Draining has started: listeners bound from now on end each connection after its exchange too. */
  #closing = false;
  #problems: Problem[] = [];
  /** The running listeners are exactly the last plan (it had no conflict and every bind succeeded). */
  #exact = false;
  readonly #kinds = new Map<ListenerKind, number>();

  /** `ports` returns the PortRuntimes of the runtime currently applied. */
  constructor(factory: ListenerFactory, ports: () => RuntimePorts, drainTimeoutMs: number) {
    this.#factory = factory;
    this.#ports = ports;
    this.#drainTimeoutMs = drainTimeoutMs;
  }

  /** Problems of the last reconcile: listeners that could not be bound. */
  get problems(): readonly Problem[] {
    return this.#problems;
  }

  /** How many listeners run (without copying them, as `listeners` does). */
  get count(): number {
    return this.#running.size;
  }

  get listeners(): readonly RunningListener[] {
    return [...this.#running.values()];
  }

  /** How many listeners run, by kind. */
  get kinds(): ReadonlyMap<ListenerKind, number> {
    return this.#kinds;
  }

  async reconcile(plan: ListenerPlan): Promise<ReconcileResult> {
    const wanted = new Map(plan.listeners.map((spec) => [spec.id, spec]));
    const removed: string[] = [];
    const replaced: string[] = [];
    const kept: string[] = [];
    for (const [id, listener] of this.#running) {
      if (!this.#retire(listener, wanted.get(id), removed, replaced)) kept.push(id);
    }
    const problems: Problem[] = plan.conflicts.map(({ spec, heldBy }) => listenerProblem(
      spec, `cannot listen on ${spec.id}: already used by Service ${heldBy.service.namespace}/${heldBy.service.name}`,
    ));
    const { added, failed } = await this.#startAll(plan.listeners.filter((spec) => !this.#running.has(spec.id)), new Set(replaced), problems);
    this.#problems = problems;
    this.#exact = problems.length === 0;
    return new Reconciled({ added, removed, replaced, kept, failed });
  }

  /**
   * Applies a change of the plan to the running listeners, as `reconcile` of the whole new plan
   * would; null (nothing touched) when it cannot be sure to: see the module comment.
   */
  async update(change: PlanChange): Promise<ReconcileResult | null> {
    if (!this.#exact) return null;
    const released = new Set(change.before.map((spec) => spec.id));
    const wanted = new Map<string, ListenerSpec>();
    for (const spec of change.after) {
      if (wanted.has(spec.id) || (this.#running.has(spec.id) && !released.has(spec.id))) return null;
      wanted.set(spec.id, spec);
    }
    const removed: string[] = [];
    const replaced: string[] = [];
    for (const id of released) {
      const listener = this.#running.get(id);
      if (listener !== undefined) this.#retire(listener, wanted.get(id), removed, replaced);
    }
    const problems: Problem[] = [];
    const { added, failed } = await this.#startAll([...wanted.values()].filter((spec) => !this.#running.has(spec.id)), new Set(replaced), problems);
    this.#problems = problems;
    this.#exact = problems.length === 0;
    const fresh = new Set([...added, ...replaced]);
    const kept: string[] = [];
    for (const id of this.#running.keys()) if (!fresh.has(id)) kept.push(id);
    return new Reconciled({ added, removed, replaced, kept, failed });
  }

  /**
   * Stops `listener` unless `spec` (what is wanted at its id now) is the same listener, and lists
   * it as replaced or removed; false when it is kept.
   */
  #retire(listener: RunningListener, spec: ListenerSpec | undefined, removed: string[], replaced: string[]): boolean {
    if (spec && sameListener(spec, listener.spec)) return false;
    (spec ? replaced : removed).push(listener.spec.id);
    // close() stops accepting synchronously, so a replacement can bind the same port below.
    this.#stop(listener);
    return true;
  }

  /** Binds `specs`; each bound one is added (or was a replacement), each failure a problem. */
  async #startAll(specs: readonly ListenerSpec[], replacing: ReadonlySet<string>, problems: Problem[]): Promise<{ added: string[]; failed: Failure[] }> {
    const added: string[] = [];
    const failed: Failure[] = [];
    await Promise.all(specs.map(async (spec) => {
      const error = await this.#start(spec);
      if (error === null) {
        if (!replacing.has(spec.id)) added.push(spec.id);
        return;
      }
      failed.push({ listener: spec.id, error });
      problems.push(listenerProblem(spec, `cannot listen on ${spec.id}: ${error}`));
    }));
    return { added, failed };
  }

  /** Draining starts: every listener keeps accepting, and ends each connection after its current exchange. */
  closeAfterExchange(): void {
    this.#closing = true;
    for (const listener of this.#running.values()) listener.closeAfterExchange();
  }

  /** Closes every listener, letting in-flight traffic finish within the drain timeout. */
  async closeAll(): Promise<void> {
    for (const listener of this.#running.values()) this.#drain(listener);
    this.#running.clear();
    this.#kinds.clear();
    this.#exact = false;
    await Promise.all([...this.#draining]);
  }

  /** Binds a listener; returns null, or the reason it could not be bound. */
  async #start(spec: ListenerSpec): Promise<string | null> {
    const bound = this.#ports();
    if (!bound.has(spec.portKey)) return `the runtime has no port ${spec.portKey}`;
    // Read at each connection, never at bind: the runtime builds a Service's ports on first use.
    let last: PortRuntime | undefined;
    const ports = this.#ports;
    const current: CurrentPort = () => {
      // After a removal the listener drains: a late request on a kept-alive connection still
      // gets the last config this port had (or, with none seen yet, the one it was bound with).
      last = ports().get(spec.portKey) ?? last ?? bound.get(spec.portKey) as PortRuntime;
      return last;
    };
    const listener = this.#factory(spec, current);
    try {
      await listener.listen();
    } catch (error) {
      await listener.close(0).catch(() => undefined);
      return bindErrorText(error);
    }
    if (this.#closing) listener.closeAfterExchange();
    this.#running.set(spec.id, listener);
    this.#kinds.set(spec.kind, (this.#kinds.get(spec.kind) ?? 0) + 1);
    return null;
  }

  /** No longer running: it drains in the background. */
  #stop(listener: RunningListener): void {
    this.#running.delete(listener.spec.id);
    const left = (this.#kinds.get(listener.spec.kind) ?? 0) - 1;
    if (left > 0) this.#kinds.set(listener.spec.kind, left);
    else this.#kinds.delete(listener.spec.kind);
    this.#drain(listener);
  }

  #drain(listener: RunningListener): void {
    const closing = listener.close(this.#drainTimeoutMs).catch(() => undefined).finally(() => {
      this.#draining.delete(closing);
    });
    this.#draining.add(closing);
  }
}

function listenerProblem(spec: ListenerSpec, message: string): Problem {
  return problem({ kind: 'Listener', namespace: spec.service.namespace, name: spec.service.name }, message);
}

function bindErrorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.startsWith(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}
