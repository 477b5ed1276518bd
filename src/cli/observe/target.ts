/**
 * The target of stat/tap/top: `ns/name` (a Service), a single word (a namespace when traffic
 * or config shows one by that name, else the Service of that name in `default`), or nothing
 * (every Service).
 */
export interface Target {
  readonly namespace: string | null;
  readonly service: string | null;
}

export const EVERYTHING: Target = { namespace: null, service: null };

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `knownNamespaces` decides a single word; an invalid name is an Error saying why. */
export function parseTarget(text: string | undefined, knownNamespaces: ReadonlySet<string>): Target {
  if (text === undefined || text === '') return EVERYTHING;
  const parts = text.split('/');
  if (parts.length > 2 || parts.some((part) => !NAME.test(part))) throw new Error(`"${text}" is not a Service (namespace/name) or a namespace`);
  if (parts.length === 2) return { namespace: parts[0]!, service: parts[1]! };
  return knownNamespaces.has(text) ? { namespace: text, service: null } : { namespace: 'default', service: text };
}

export function describeTarget(target: Target): string {
  if (target.service !== null) return `Service ${target.namespace}/${target.service}`;
  return target.namespace !== null ? `namespace ${target.namespace}` : 'every Service';
}

export function inTarget(target: Target, namespace: string | undefined, service: string | undefined): boolean {
  return (target.namespace === null || target.namespace === namespace) && (target.service === null || target.service === service);
}

/** The /tap query for a target (and the filters the agent applies itself). */
export function tapQuery(target: Target, filters: { readonly method?: string | undefined; readonly from?: string | undefined; readonly rate?: number }): string {
  const params = new URLSearchParams();
  if (target.service !== null) params.set('service', `${target.namespace}/${target.service}`);
  else if (target.namespace !== null) params.set('namespace', target.namespace);
  if (filters.method) params.set('method', filters.method.toUpperCase());
  if (filters.from) params.set('from', filters.from);
  if (filters.rate !== undefined) params.set('rate', String(filters.rate));
  return `tap?${params.toString()}`;
}
