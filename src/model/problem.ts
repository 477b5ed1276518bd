/**
 * A problem found in user input. Every problem names the object it is about, so a user can find
 * it: `Kind namespace/name: message`, plus the file and line when the object came from a file.
 */
export interface SourceLocation {
  readonly file: string;
  /** 1-based line of the document (or of the error inside it). */
  readonly line: number;
}

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly kind: string;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly message: string;
  readonly severity: Severity;
  readonly source?: SourceLocation;
}

export interface ObjectRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export function problem(ref: ObjectRef, message: string, severity: Severity = 'error', source?: SourceLocation): Problem {
  return source
    ? { kind: ref.kind, namespace: ref.namespace, name: ref.name, message, severity, source }
    : { kind: ref.kind, namespace: ref.namespace, name: ref.name, message, severity };
}

/** `Kind namespace/name: message` (with ` (file:line)` when known). */
export function formatProblem(p: Problem): string {
  const id = p.namespace ? `${p.namespace}/${p.name}` : p.name;
  const where = p.source ? ` (${p.source.file}:${p.source.line})` : '';
  return `${p.kind} ${id}: ${p.message}${where}`;
}
