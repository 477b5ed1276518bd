/** The Gateway API parts of `plexus config --output text`: rule origins, filters, route status. */
import type { HeaderEdits, HttpRule, PathEdit, RouteStatus } from '../routing/mesh-config.js';

/** `HTTPRoute ns/name rules[0] "name"`, or '' for a TrafficSplit rule. */
export function ruleOrigin(rule: HttpRule): string {
  if (rule.route === undefined) return '';
  const { kind, route, index, name } = rule.route;
  return ` (${kind} ${route} rules[${index}]${name === null ? '' : ` "${name}"`})`;
}

/** One line per filter and timeout of a Gateway API rule. */
export function renderRuleActions(rule: HttpRule): string[] {
  const lines: string[] = [];
  const filters = rule.filters;
  if (filters?.redirect) {
    const r = filters.redirect;
    const parts = [r.scheme && `scheme ${r.scheme}`, r.hostname && `host ${r.hostname}`, r.port && `port ${r.port}`, r.path && renderPath(r.path)].filter(Boolean);
    lines.push(`redirect ${r.statusCode}${parts.length ? ` to ${parts.join(', ')}` : ''}`);
  }
  if (filters?.rewrite) {
    const w = filters.rewrite;
    lines.push(`rewrite ${[w.hostname && `host ${w.hostname}`, w.path && renderPath(w.path)].filter(Boolean).join(', ')}`);
  }
  if (filters?.requestHeaders) lines.push(`request headers: ${renderEdits(filters.requestHeaders)}`);
  if (filters?.responseHeaders) lines.push(`response headers: ${renderEdits(filters.responseHeaders)}`);
  for (const mirror of filters?.mirrors ?? []) {
    const share = mirror.numerator === mirror.denominator ? '' : ` ${mirror.numerator}/${mirror.denominator} of requests`;
    lines.push(`mirror${share} to ${mirror.service} (${mirror.endpoints.length} endpoints)`);
  }
  const timeouts = rule.timeouts;
  if (timeouts && (timeouts.requestMs !== null || timeouts.backendRequestMs !== null)) {
    lines.push(`timeouts: request ${renderMs(timeouts.requestMs)}, per attempt ${renderMs(timeouts.backendRequestMs)}`);
  }
  return lines;
}

export function renderEdits(edits: HeaderEdits): string {
  return [
    ...edits.set.map((h) => `set ${h.name}: ${h.value}`),
    ...edits.add.map((h) => `add ${h.name}: ${h.value}`),
    ...edits.remove.map((name) => `remove ${name}`),
  ].join(', ');
}

function renderPath(path: PathEdit): string {
  return path.type === 'ReplaceFullPath' ? `path ${path.value}` : `path prefix ${path.prefix || '/'} → ${path.value}`;
}

function renderMs(ms: number | null): string {
  return ms === null ? 'default' : ms === 0 ? 'none' : `${ms}ms`;
}

/** The status Plexus gives each route (what the leader writes to `status.parents`). */
export function renderRouteStatuses(routes: readonly RouteStatus[]): string[] {
  if (routes.length === 0) return [];
  const lines = ['', 'Gateway API routes (status.parents written by the leader):'];
  for (const route of routes) {
    lines.push(`  ${route.kind} ${route.namespace}/${route.name}${route.parents.length === 0 ? ': no Service parent' : ''}`);
    for (const parent of route.parents) {
      const ref = parent.parentRef;
      lines.push(`    parent Service ${ref.namespace}/${ref.name}${ref.port === undefined ? '' : `:${ref.port}`}:`);
      for (const c of parent.conditions) lines.push(`      ${c.type} ${c.status} (${c.reason}): ${c.message}`);
    }
  }
  return lines;
}
