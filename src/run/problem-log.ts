/** The log of a mode runner's config problems: each is logged once, when it first appears, not on every reload. */
import type { Logger } from 'pino';
import { formatProblem } from '../model/problem.js';
import type { MeshConfig } from '../routing/mesh-config.js';

export class ProblemLog {
  readonly #logger: Logger;
  #reported = new Set<string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Logs the lines not reported before; a line that went away is logged again if it comes back. */
  report(lines: Iterable<string>): void {
    const current = new Set(lines);
    for (const line of current) if (!this.#reported.has(line)) this.#logger.warn({ problem: line }, 'config problem');
    this.#reported = current;
  }
}

/** `severity: Kind namespace/name: message (file:line)`, one line per problem of `config`. */
export function problemLines(config: MeshConfig): string[] {
  return config.problems.map((p) => `${p.severity}: ${formatProblem(p)}`);
}
