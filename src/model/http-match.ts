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
  /**
   * Query parameters (Gateway API; absent for SMI): the first value of the named parameter
   * (names case-sensitive, values percent-decoded) must match `valueRegex` (search semantics).
   */
  readonly queryParams?: readonly QueryParamMatch[];
}

export interface QueryParamMatch {
  readonly name: string;
  readonly valueRegex: string;
}

export interface HeaderMatch {
  readonly name: string;
  readonly valueRegex: string;
}
