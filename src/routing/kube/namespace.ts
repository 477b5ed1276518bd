/** Reads a v1 Namespace: only its `plexus.dev/mesh` and `plexus.dev/own-names` opt-ins matter. */
import { readNamespaceAnnotations } from '../annotations.js';
import type { SourceLocation } from '../../model/problem.js';
import { ProblemSink } from '../problem-sink.js';
import { readIdentity } from '../raw.js';
import type { RawObject } from '../../model/snapshot.js';
import type { NamespaceInfo, ReadResult } from './types.js';

export function readNamespace(raw: RawObject, source?: SourceLocation): ReadResult<NamespaceInfo> {
  const id = readIdentity(raw, true);
  const sink = new ProblemSink({ kind: 'Namespace', namespace: '', name: id.name }, source);
  const { mesh, ownNames } = readNamespaceAnnotations(id.annotations, id.unquotedAnnotations, sink);
  const object: NamespaceInfo = { kind: 'Namespace', id, key: id.name, ...(source ? { source } : {}), mesh, ownNames };
  return { object, problems: sink.problems };
}
