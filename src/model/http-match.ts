/** What an HTTP route matches on: read from SMI (and Gateway API) routes, compiled into MeshConfig, matched by the agent. */

/**
 * One HTTPRouteGroup match. `pathRegex` is anchored at the start of the path only;
 * header regexes match anywhere in the value (search semantics); header names are lowercase.
 */
export interface HttpMatch {
  readonly name: string;
  readonly pathRegex: string | null;
  /** Uppercase method names; empty = every method (`*` in SMI). */
  readonly methods: readonly string[];
  readonly headers: readonly HeaderMatch[];
}

export interface HeaderMatch {
  readonly name: string;
  readonly valueRegex: string;
}
