/**
 * The compiler's input: what a provider (file or kube) has seen, as raw Kubernetes objects.
 * Objects are kept raw (as parsed from YAML/JSON) because each one is validated on its own by
 * the compiler: a malformed object becomes a problem, never an exception.
 */
import type { SourceLocation } from './problem.js';

export type RawObject = Readonly<Record<string, unknown>>;

export interface Snapshot {
  /** Services, EndpointSlices, Endpoints, Pods, Namespaces and SMI objects, in any order. */
  readonly objects: readonly RawObject[];
  /** Where an object came from (file provider), so its problems can point at the file and line. */
  readonly sources?: ReadonlyMap<RawObject, SourceLocation>;
}
