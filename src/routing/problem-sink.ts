/** Collects the problems of one object, each located at the object (and its file, when known). */
import { problem, type ObjectRef, type Problem, type SourceLocation } from '../model/problem.js';

/** Shared by every object without problems (most): their read results are kept per object. */
const NO_PROBLEMS: readonly Problem[] = Object.freeze([]);

export class ProblemSink {
  #problems: Problem[] | null = null;

  constructor(private readonly ref: ObjectRef, private readonly source?: SourceLocation) {}

  /** The problems so far, in the order found. */
  get problems(): readonly Problem[] {
    return this.#problems ?? NO_PROBLEMS;
  }

  error(message: string): void {
    (this.#problems ??= []).push(problem(this.ref, message, 'error', this.source));
  }

  warning(message: string): void {
    (this.#problems ??= []).push(problem(this.ref, message, 'warning', this.source));
  }
}
