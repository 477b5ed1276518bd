/**
 * A readable summary of a MeshConfig for `plexus config --output text`: per Service and port,
 * where it listens, its routes, backends with weights and endpoints, access rules and policies.
 * Pure: returns the text.
 */
import type { AccessRule, Destination, Endpoint, HttpRule, MeshConfig, MeshPort, MeshService, Policy } from '../routing/mesh-config.js';
import { renderEdits, renderRouteStatuses, renderRuleActions, ruleOrigin } from './render-routes.js';
import type { HttpMatch } from '../model/http-match.js';

export function renderMeshConfig(config: MeshConfig): string {
  const lines: string[] = [];
  const errors = config.problems.filter((p) => p.severity === 'error').length;
  const warnings = config.problems.length - errors;
  lines.push(
    `node ${config.nodeName}, mesh domain ${config.meshDomain}: ${count(config.services.length, 'meshed service')}, `
    + `${count(config.identities.length, 'source identity', 'source identities')}, `
    + `${count(errors, 'error')}, ${count(warnings, 'warning')}`,
  );
  for (const service of config.services) {
    lines.push('');
    for (const line of renderService(service, config.meshDomain)) lines.push(line);
  }
  for (const line of renderRouteStatuses(config.routes ?? [])) lines.push(line);
  if (config.identities.length > 0) {
    lines.push('', 'source identities (pods of this node):');
    for (const id of config.identities) {
      lines.push(`  ${id.ip}  pod ${id.namespace}/${id.pod}  serviceaccount ${id.namespace}/${id.serviceAccount}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

function renderService(service: MeshService, domain: string): string[] {
  const where = service.vip ? `vip ${service.vip}` : `cluster IP ${service.clusterIP ?? 'none'}`;
  const lines = [`${service.key}  (${service.name}.${service.namespace}.${domain}, ${where})`];
  lines.push(`  policy: ${renderPolicy(service.policy)}`);
  for (const port of service.ports) for (const line of renderPort(service, port)) lines.push(`  ${line}`);
  return lines;
}

function renderPolicy(policy: Policy): string {
  const parts = [
    `load-balancer ${policy.loadBalancer}`,
    `retries ${policy.retryAttempts}`,
    `timeout ${policy.timeoutMs ? `${policy.timeoutMs}ms` : 'agent default (--request-timeout)'}`,
  ];
  if (policy.circuitBreaker) {
    parts.push(`circuit-breaker ${policy.circuitBreaker.consecutiveErrors} errors / ${policy.circuitBreaker.ejectionMs}ms`);
  }
  if (policy.rateLimit) parts.push(`rate-limit ${policy.rateLimit.average}/s burst ${policy.rateLimit.burst}`);
  return parts.join(', ');
}

function renderPort(service: MeshService, port: MeshPort): string[] {
  const name = port.name ? `${port.name} ` : '';
  const listen = service.vip ? `${service.vip}:${port.port}` : `agent port ${port.listenerPort || 'unallocated'}`;
  const kind = port.trafficType === 'http' && port.scheme === 'h2c' ? 'http (h2c)' : port.trafficType;
  const lines = [`port ${name}${port.port}/${port.protocol} ${kind}, listener ${listen}`];
  for (const line of renderRouting(port.rules, port.destination)) lines.push(line);
  for (const consumer of port.consumers ?? []) {
    lines.push(`  for clients in namespace ${consumer.namespace} (consumer routes):`);
    for (const line of renderRouting(consumer.rules, consumer.destination)) lines.push(`  ${line}`);
  }
  for (const line of renderAccess(port.access)) lines.push(`  ${line}`);
  return lines;
}

function renderRouting(rules: readonly HttpRule[], destination: Destination): string[] {
  const lines: string[] = [];
  rules.forEach((rule, i) => {
    lines.push(`  rule ${i + 1}${ruleOrigin(rule)} when ${rule.matches.map(renderMatch).join(' or ')}:`);
    for (const line of renderRuleActions(rule)) lines.push(`    ${line}`);
    if (!rule.filters?.redirect) for (const line of renderDestination(rule.destination)) lines.push(`    ${line}`);
  });
  lines.push(rules.length ? '  otherwise:' : '  route:');
  for (const line of renderDestination(destination)) lines.push(`    ${line}`);
  return lines;
}

function renderMatch(match: HttpMatch): string {
  const parts: string[] = [];
  if (match.pathRegex !== null) parts.push(`path ^${match.pathRegex}`);
  if (match.methods.length) parts.push(`method ${match.methods.join('|')}`);
  for (const header of match.headers) parts.push(`header ${header.name} ~ ${header.valueRegex}`);
  for (const query of match.queryParams ?? []) parts.push(`query ${query.name} ~ ${query.valueRegex}`);
  const label = match.name ? `${match.name}` : 'match';
  return parts.length ? `${label} [${parts.join(', ')}]` : `${label} [any request]`;
}

function renderDestination(destination: Destination): string[] {
  const split = destination.split ? ` (split ${destination.split})` : '';
  if (destination.kind === 'reject') return [`reject ${destination.status}: ${destination.reason}${split}`];
  const total = destination.backends.reduce((sum, b) => sum + b.weight, 0);
  const lines = [`backends${split}${destination.unready === 'fail' ? ', a backend without ready endpoints answers 503' : ''}:`];
  for (const backend of destination.backends) {
    const share = total > 0 ? ` (${Math.round((backend.weight / total) * 1000) / 10}%)` : '';
    const endpoints = backend.endpoints.length ? backend.endpoints.map(renderEndpoint).join(', ') : 'no endpoints';
    lines.push(`  ${backend.service} weight ${backend.weight}${share}: ${backend.invalid === undefined ? endpoints : `invalid, answered 500: ${backend.invalid}`}`);
    if (backend.requestHeaders) lines.push(`    request headers: ${renderEdits(backend.requestHeaders)}`);
    if (backend.responseHeaders) lines.push(`    response headers: ${renderEdits(backend.responseHeaders)}`);
  }
  return lines;
}

function renderEndpoint(endpoint: Endpoint): string {
  const state = endpoint.terminating ? 'terminating' : endpoint.ready ? '' : 'not ready';
  return `${endpoint.ip}:${endpoint.port}${state ? ` (${state})` : ''}`;
}

function renderAccess(access: readonly AccessRule[]): string[] {
  if (access.length === 0) return ['access (ACL mode): nobody'];
  const lines = ['access (ACL mode):'];
  for (const rule of access) {
    const what = rule.http === null ? 'everything' : rule.http.map(renderMatch).join(' or ');
    lines.push(`  ${rule.sources.join(', ')} → ${what} (TrafficTarget ${rule.trafficTarget})`);
  }
  return lines;
}
