/** Collects the problems of one object, each located at the object (and its file, when known). */
import { problem, type ObjectRef, type Problem, type SourceLocation } from '../model/problem.js';

export class ProblemSink {
  readonly problems: Problem[] = [];

  constructor(private readonly ref: ObjectRef, private readonly source?: SourceLocation) {}

  error(message: string): void {
    this.problems.push(problem(this.ref, message, 'error', this.source));
  }

  warning(message: string): void {
    this.problems.push(problem(this.ref, message, 'warning', this.source));
  }
}
