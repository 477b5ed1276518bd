/** Reads a v1 Service: its ports, selector, type and `plexus.dev/*` annotations. */
import { fitted } from '../../model/fitted.js';
import { readServiceAnnotations } from '../annotations.js';
import type { SourceLocation } from '../../model/problem.js';
import { ProblemSink } from '../problem-sink.js';
import { fieldsAt, isFields, isPortNumber, objectKey, readIdentity, stringAt, stringMapAt } from '../raw.js';
import type { RawObject } from '../../model/snapshot.js';
import type { ReadResult, ServiceInfo, ServicePortInfo, ServicePortProtocol } from './types.js';

const PROTOCOLS: readonly ServicePortProtocol[] = ['TCP', 'UDP', 'SCTP'];

export function readProtocol(value: unknown): ServicePortProtocol | null {
  if (value === undefined) return 'TCP';
  return PROTOCOLS.find((p) => p === value) ?? null;
}

function readPorts(spec: Readonly<Record<string, unknown>> | undefined, sink: ProblemSink): ServicePortInfo[] {
  const raw = spec?.ports;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    sink.error('spec.ports is not a list');
    return [];
  }
  const ports: ServicePortInfo[] = [];
  raw.forEach((entry: unknown, i) => {
    const where = `spec.ports[${i}]`;
    if (!isFields(entry)) return sink.error(`${where} is not an object`);
    if (!isPortNumber(entry.port)) return sink.error(`${where}.port: ${JSON.stringify(entry.port)} is not a port number 1..65535`);
    const protocol = readProtocol(entry.protocol);
    if (!protocol) return sink.error(`${where}.protocol: ${JSON.stringify(entry.protocol)} is not TCP, UDP or SCTP`);
    const name = entry.name === undefined ? '' : entry.name;
    if (typeof name !== 'string') return sink.error(`${where}.name is not a string`);
    const targetPort = entry.targetPort;
    if (targetPort !== undefined && !isPortNumber(targetPort) && !(typeof targetPort === 'string' && targetPort !== '')) {
      return sink.error(`${where}.targetPort: ${JSON.stringify(targetPort)} is neither a port number nor a port name`);
    }
    if (ports.some((p) => p.port === entry.port && p.protocol === protocol)) {
      return sink.error(`${where}: port ${entry.port}/${protocol} is listed twice`);
    }
    const appProtocol = entry.appProtocol ?? null;
    if (appProtocol !== null && typeof appProtocol !== 'string') return sink.error(`${where}.appProtocol is not a string`);
    ports.push({ name, port: entry.port, protocol, targetPort: targetPort ?? null, appProtocol });
  });
  return fitted(ports);
}

export function readService(raw: RawObject, source?: SourceLocation): ReadResult<ServiceInfo> {
  const id = readIdentity(raw, false);
  const ref = { kind: 'Service', namespace: id.namespace, name: id.name };
  const sink = new ProblemSink(ref, source);
  const spec = fieldsAt(raw, 'spec');
  if (raw.spec !== undefined && !spec) sink.error('spec is not an object');
  const clusterIP = stringAt(spec, 'clusterIP') ?? null;
  const selector = fieldsAt(spec, 'selector') ? stringMapAt(spec, 'selector') : null;
  const ports = readPorts(spec, sink);
  const annotations = readServiceAnnotations(id.annotations, id.unquotedAnnotations, sink, new ProblemSink(ref, source));
  const object: ServiceInfo = {
    kind: 'Service',
    id,
    key: objectKey(id.namespace, id.name),
    ...(source ? { source } : {}),
    type: stringAt(spec, 'type') ?? 'ClusterIP',
    clusterIP: clusterIP && clusterIP !== 'None' ? clusterIP : null,
    headless: clusterIP === 'None',
    selector: selector && Object.keys(selector).length > 0 ? selector : null,
    ports,
    annotations,
  };
  return { object, problems: sink.problems };
}
