/**
 * Keeps the bound listeners equal to a plan. A listener whose spec did not change is left
 * alone (its handler reads the live PortRuntime, so new traffic follows the new config); one
 * whose kind changed is closed and bound again; removed ones stop accepting and drain in the
 * background; new ones bind. A bind failure is reported, never thrown: the rest still serve,
 * and the next reconcile tries again.
 */
import { problem, type Problem } from '../../model/problem.js';
import type { PortRuntime, RuntimePorts } from '../runtime/types.js';
import type { CurrentPort } from './connection-handler.js';
import type { RunningListener } from './listener.js';
import { sameListener, type ListenerPlan, type ListenerSpec } from './plan.js';

/** Builds an unbound listener for a spec; `current` yields the live PortRuntime of its port. */
export type ListenerFactory = (spec: ListenerSpec, current: CurrentPort) => RunningListener;

export interface ReconcileResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
  readonly kept: readonly string[];
  readonly failed: readonly { readonly listener: string; readonly error: string }[];
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

  async reconcile(plan: ListenerPlan): Promise<ReconcileResult> {
    const wanted = new Map(plan.listeners.map((spec) => [spec.id, spec]));
    const removed: string[] = [];
    const replaced: string[] = [];
    const kept: string[] = [];
    for (const [id, listener] of this.#running) {
      const spec = wanted.get(id);
      if (spec && sameListener(spec, listener.spec)) {
        kept.push(id);
        continue;
      }
      (spec ? replaced : removed).push(id);
      this.#running.delete(id);
      // close() stops accepting synchronously, so a replacement can bind the same port below.
      this.#drain(listener);
    }
    const added: string[] = [];
    const failed: { listener: string; error: string }[] = [];
    const problems: Problem[] = plan.conflicts.map(({ spec, heldBy }) => listenerProblem(
      spec, `cannot listen on ${spec.id}: already used by Service ${heldBy.service.namespace}/${heldBy.service.name}`,
    ));
    await Promise.all(plan.listeners.filter((spec) => !this.#running.has(spec.id)).map(async (spec) => {
      const error = await this.#start(spec);
      if (error === null) {
        if (!replaced.includes(spec.id)) added.push(spec.id);
        return;
      }
      failed.push({ listener: spec.id, error });
      problems.push(listenerProblem(spec, `cannot listen on ${spec.id}: ${error}`));
    }));
    this.#problems = problems;
    return { added: added.sort(), removed: removed.sort(), replaced: replaced.sort(), kept: kept.sort(), failed };
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
    return null;
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
