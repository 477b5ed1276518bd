/** Reads a v1 Pod: its IPs, node, ServiceAccount, readiness and named container ports. */
import type { SourceLocation } from '../../model/problem.js';
import { ProblemSink } from '../problem-sink.js';
import { arrayAt, fieldsAt, isFields, isPortNumber, objectKey, readIdentity, stringAt, type Fields } from '../raw.js';
import type { RawObject } from '../../model/snapshot.js';
import { readProtocol } from './service.js';
import type { ContainerPortInfo, PodInfo, ReadResult } from './types.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

function readIps(status: Fields | undefined): string[] {
  const ips: string[] = [];
  const primary = stringAt(status, 'podIP');
  if (primary) ips.push(primary);
  for (const entry of arrayAt(status, 'podIPs') ?? []) {
    const ip = isFields(entry) ? stringAt(entry, 'ip') : undefined;
    if (ip && !ips.includes(ip)) ips.push(ip);
  }
  return ips;
}

function readContainerPorts(spec: Fields | undefined, sink: ProblemSink): ContainerPortInfo[] {
  const ports: ContainerPortInfo[] = [];
  arrayAt(spec, 'containers')?.forEach((container, c) => {
    arrayAt(isFields(container) ? container : undefined, 'ports')?.forEach((entry, i) => {
      const where = `spec.containers[${c}].ports[${i}]`;
      if (!isFields(entry)) return sink.error(`${where} is not an object`);
      if (!isPortNumber(entry.containerPort)) return sink.error(`${where}.containerPort: ${JSON.stringify(entry.containerPort)} is not a port number 1..65535`);
      const protocol = readProtocol(entry.protocol) ?? 'TCP';
      ports.push({ name: stringAt(entry, 'name') ?? '', port: entry.containerPort, protocol });
    });
  });
  return ports;
}

export function readPod(raw: RawObject, source?: SourceLocation): ReadResult<PodInfo> {
  const id = readIdentity(raw, false);
  const sink = new ProblemSink({ kind: 'Pod', namespace: id.namespace, name: id.name }, source);
  const spec = fieldsAt(raw, 'spec');
  const status = fieldsAt(raw, 'status');
  const phase = stringAt(status, 'phase');
  const readyCondition = arrayAt(status, 'conditions')?.find((c) => isFields(c) && c.type === 'Ready');
  const object: PodInfo = {
    kind: 'Pod',
    id,
    key: objectKey(id.namespace, id.name),
    ...(source ? { source } : {}),
    serviceAccount: stringAt(spec, 'serviceAccountName') || stringAt(spec, 'serviceAccount') || DEFAULT_SERVICE_ACCOUNT,
    nodeName: stringAt(spec, 'nodeName') || null,
    hostNetwork: spec?.hostNetwork === true,
    ips: readIps(status),
    running: phase !== 'Succeeded' && phase !== 'Failed',
    ready: !(isFields(readyCondition) && readyCondition.status === 'False'),
    terminating: stringAt(fieldsAt(raw, 'metadata'), 'deletionTimestamp') !== undefined,
    containerPorts: readContainerPorts(spec, sink),
  };
  return { object, problems: sink.problems };
}
