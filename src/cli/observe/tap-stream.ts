/**
 * Reads /tap from every agent at once and hands each event line over, parsed. Shared by
 * `plexus tap`, `plexus top` and the dashboard. An agent whose stream fails is reported once
 * (the others go on); `stop()` ends every stream.
 */
import { agentReason, type AgentAccess } from './agents.js';

export interface TapEvent {
  readonly type: 'request';
  readonly protocol: string;
  readonly source: string;
  readonly sourceIp: string;
  readonly destination: string;
  readonly backend: string | null;
  readonly endpoint: string | null;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly outcome: string;
  readonly failed: boolean;
  readonly latencyMs: number;
  readonly reason: string;
}

export interface TapHandlers {
  /** A request event from `agent`. */
  onEvent(event: TapEvent, agent: string): void;
  /** The agent left events out (sampling, or a reader too slow). */
  onSkipped?(sampled: number, dropped: number, agent: string): void;
  /** The agent's stream could not be opened, or ended. */
  onProblem(message: string, agent: string): void;
}

export class TapStreams {
  readonly #controller = new AbortController();
  readonly done: Promise<void>;

  constructor(access: AgentAccess, agents: readonly string[], query: string, handlers: TapHandlers) {
    this.done = Promise.all(agents.map((agent) => this.#read(access, agent, query, handlers))).then(() => undefined);
  }

  stop(): void {
    this.#controller.abort();
  }

  async #read(access: AgentAccess, agent: string, query: string, handlers: TapHandlers): Promise<void> {
    const signal = this.#controller.signal;
    try {
      const answer = await access.get(agent, query, signal);
      if (answer.status !== 200 || answer.body === null) {
        handlers.onProblem(`agent ${agent} refused the tap (${answer.status}): ${agentReason(await answer.text())}`, agent);
        return;
      }
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of answer.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
          dispatch(buffer.slice(0, newline), agent, handlers);
          buffer = buffer.slice(newline + 1);
        }
      }
      if (!signal.aborted) handlers.onProblem(`agent ${agent} ended the tap`, agent);
    } catch (error) {
      if (!signal.aborted) handlers.onProblem(`agent ${agent}: ${error instanceof Error ? error.message : String(error)}`, agent);
    }
  }
}

function dispatch(line: string, agent: string, handlers: TapHandlers): void {
  let parsed: { type?: unknown; sampled?: unknown; dropped?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return;
  }
  if (parsed.type === 'request') handlers.onEvent(parsed as TapEvent, agent);
  else if (parsed.type === 'skipped') handlers.onSkipped?.(Number(parsed.sampled) || 0, Number(parsed.dropped) || 0, agent);
}
