/**
 * The shipped Grafana dashboards and recording rules (dashboards/) use only metric names and
 * labels the agent really exports: read from a live MeshMetrics registry that has seen a
 * request, a TCP connection and a UDP flow.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MeshMetrics } from '../../../src/node-agent/telemetry/metrics.js';
import { PACKAGE_ROOT } from '../../../src/cli/package-root.js';

const DIR = join(PACKAGE_ROOT, 'dashboards');
/** Added by Prometheus to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

async function exportedLabels(): Promise<Map<string, Set<string>>> {
  const metrics = new MeshMetrics();
  metrics.request({
    protocol: 'http', sourceNamespace: 'shop', sourceIdentity: 'shop/front', sourceIp: '10.0.0.1', destinationNamespace: 'shop', destinationService: 'web',
    destinationPort: 80, backend: 'shop/web-v1', endpoint: '10.0.0.2:80', method: 'GET', path: '/', status: 200, durationSeconds: 0.01, retries: 1,
    reason: '', requestId: 'r', traceId: '',
  });
  for (const protocol of ['tcp', 'udp'] as const) {
    metrics.connection({
      protocol, sourceNamespace: 'shop', sourceIdentity: 'shop/front', sourceIp: '10.0.0.1', destinationNamespace: 'shop', destinationService: 'db',
      destinationPort: 5432, backend: 'shop/db', endpoint: '10.0.0.3:5432', outcome: 'closed', bytesIn: 10, bytesOut: 20, durationSeconds: 1,
    });
  }
  metrics.setGeneration(1);
  metrics.setProblems({ error: 0, warning: 0 });
  metrics.setListeners(new Map([['http', 1]]));
  metrics.setProviderHealthy(true);
  const labels = new Map<string, Set<string>>();
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!match) continue;
    const set = labels.get(match[1]!) ?? new Set<string>();
    for (const [, name] of (match[2] ?? '').matchAll(/(\w+)="/g)) set.add(name!);
    labels.set(match[1]!, set);
  }
  return labels;
}

interface Query {
  readonly where: string;
  readonly expr: string;
  readonly legend?: string;
}

function dashboardQueries(): Query[] {
  const queries: Query[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string; legendFormat?: string }> }>;
      templating: { list: Array<{ name: string; query: unknown }> };
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) queries.push({ where: `${file} "${panel.title}"`, expr: target.expr, ...(target.legendFormat ? { legend: target.legendFormat } : {}) });
    }
    for (const variable of dashboard.templating.list) {
      const query = (variable.query as { query?: string } | string | undefined);
      const text = typeof query === 'string' ? query : query?.query;
      if (text && text.startsWith('label_values')) queries.push({ where: `${file} variable ${variable.name}`, expr: text });
    }
  }
  return queries;
}

function ruleQueries(): { queries: Query[]; recorded: Map<string, Set<string>> } {
  const rules = parse(readFileSync(join(DIR, 'recording-rules.yaml'), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string }> }> };
  const queries: Query[] = [];
  const recorded = new Map<string, Set<string>>();
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      queries.push({ where: `recording-rules.yaml ${rule.record ?? rule.alert}`, expr: rule.expr });
      if (rule.record) recorded.set(rule.record, new Set(/by \(([^)]*)\)/.exec(rule.expr)?.[1]?.split(',').map((l) => l.trim()) ?? []));
    }
  }
  return { queries, recorded };
}

/** Every problem with one query: unknown metrics, labels a metric does not have. */
function problems(query: Query, known: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const found: string[] = [];
  const expr = query.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const used = new Set<string>();
  for (const [, name] of expr.matchAll(/\b((?:plexus|process|nodejs)[_:][\w:]*)/g)) {
    used.add(name!);
    if (!known.has(name!)) found.push(`${query.where}: no metric ${name}`);
  }
  const labelsOfUsed = new Set([...used].flatMap((name) => [...(known.get(name) ?? [])]));
  const allowed = (label: string): boolean => TARGET_LABELS.has(label) || labelsOfUsed.has(label);
  for (const [, name, matchers] of expr.matchAll(/\b((?:plexus|process|nodejs)[_:][\w:]*)\s*\{([^}]*)\}/g)) {
    for (const [, label] of matchers!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
      if (!TARGET_LABELS.has(label!) && !known.get(name!)?.has(label!)) found.push(`${query.where}: ${name} has no label ${label}`);
    }
  }
  for (const [, list] of expr.matchAll(/\b(?:by|without|ignoring|on)\s*\(([^)]*)\)/g)) {
    for (const label of list!.split(',').map((l) => l.trim()).filter((l) => l !== '')) if (!allowed(label)) found.push(`${query.where}: no metric of the query has label ${label}`);
  }
  for (const [, , label] of expr.matchAll(/label_values\(([^,]+),\s*(\w+)\)/g)) if (!allowed(label!)) found.push(`${query.where}: label_values of unknown label ${label}`);
  for (const [, label] of (query.legend ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) if (!allowed(label!)) found.push(`${query.where}: legend names unknown label ${label}`);
  return found;
}

describe('dashboards/ (Grafana) and recording rules', () => {
  it('use only metrics and labels the agent exports', async () => {
    const exported = await exportedLabels();
    const { queries: rules, recorded } = ruleQueries();
    const known = new Map<string, ReadonlySet<string>>([...exported, ...recorded]);
    const queries = [...dashboardQueries(), ...rules];
    expect(queries.length).to.be.greaterThan(30);
    expect(queries.flatMap((query) => problems(query, known))).to.deep.equal([]);
  });

  it('catch a misspelt metric or label (the check itself works)', async () => {
    const known = await exportedLabels();
    expect(problems({ where: 'x', expr: 'rate(plexus_request_total[1m])' }, known)).to.deep.equal(['x: no metric plexus_request_total']);
    expect(problems({ where: 'x', expr: 'rate(plexus_requests_total{destination="a"}[1m])' }, known)).to.deep.equal(['x: plexus_requests_total has no label destination']);
    expect(problems({ where: 'x', expr: 'sum by (pod_ip) (rate(plexus_requests_total[1m]))' }, known)).to.deep.equal(['x: no metric of the query has label pod_ip']);
  });

  it('are dashboards Grafana can import: unique panel ids, a Prometheus datasource variable', () => {
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { uid: string; panels: Array<{ id: number }>; templating: { list: Array<{ type: string }> } };
      expect(dashboard.uid, file).to.match(/^plexus-/);
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, file).to.equal(ids.length);
      expect(dashboard.templating.list.some((v) => v.type === 'datasource'), file).to.equal(true);
    }
  });
});
