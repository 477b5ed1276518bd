/**
 * Reads discovery.k8s.io EndpointSlices and legacy v1 Endpoints into endpoint groups. Condition
 * defaults follow Kubernetes: ready nil → true, serving nil → ready, terminating nil → false.
 * Legacy `notReadyAddresses` are neither ready nor serving.
 */
import { fitted } from '../../model/fitted.js';
import type { SourceLocation } from '../../model/problem.js';
import { ProblemSink } from '../problem-sink.js';
import { arrayAt, fieldsAt, isFields, isPortNumber, objectKey, readIdentity, stringAt, type Fields } from '../raw.js';
import type { RawObject } from '../../model/snapshot.js';
import { readProtocol } from './service.js';
import type { EndpointAddress, EndpointGroup, EndpointPortInfo, EndpointSliceInfo, EndpointsInfo, ReadResult } from './types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function readPorts(list: readonly unknown[] | undefined, where: string, sink: ProblemSink): EndpointPortInfo[] {
  const ports: EndpointPortInfo[] = [];
  list?.forEach((entry, i) => {
    if (!isFields(entry)) return sink.error(`${where}[${i}] is not an object`);
    if (!isPortNumber(entry.port)) return sink.error(`${where}[${i}].port: ${JSON.stringify(entry.port)} is not a port number 1..65535`);
    const protocol = readProtocol(entry.protocol);
    if (!protocol) return sink.error(`${where}[${i}].protocol: ${JSON.stringify(entry.protocol)} is not TCP, UDP or SCTP`);
    ports.push({ name: typeof entry.name === 'string' ? entry.name : '', port: entry.port, protocol });
  });
  return fitted(ports);
}

/** `namespace/name` of a Pod `targetRef`, or null when it names something else. */
function readPodRef(entry: Fields, namespace: string): string | null {
  const ref = fieldsAt(entry, 'targetRef');
  const name = stringAt(ref, 'name');
  if (!ref || stringAt(ref, 'kind') !== 'Pod' || !name) return null;
  return objectKey(stringAt(ref, 'namespace') || namespace, name);
}

function optionalBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

function readSliceEndpoints(raw: RawObject, namespace: string, port: number, sink: ProblemSink): EndpointAddress[] {
  const addresses: EndpointAddress[] = [];
  arrayAt(raw, 'endpoints')?.forEach((entry, i) => {
    const where = `endpoints[${i}]`;
    if (!isFields(entry)) return sink.error(`${where} is not an object`);
    // Kubernetes: the addresses of one endpoint are fungible; consumers may use the first only.
    const ip = arrayAt(entry, 'addresses')?.[0];
    if (typeof ip !== 'string' || ip === '') return sink.error(`${where}.addresses has no address`);
    const conditions = fieldsAt(entry, 'conditions');
    const ready = optionalBoolean(conditions?.ready) ?? true;
    addresses.push({
      ip,
      port,
      ready,
      serving: optionalBoolean(conditions?.serving) ?? ready,
      terminating: optionalBoolean(conditions?.terminating) ?? false,
      nodeName: stringAt(entry, 'nodeName') || null,
      pod: readPodRef(entry, namespace),
      serviceAccount: null,
    });
  });
  return fitted(addresses);
}

export function readEndpointSlice(raw: RawObject, source?: SourceLocation): ReadResult<EndpointSliceInfo> {
  const id = readIdentity(raw, false);
  const sink = new ProblemSink({ kind: 'EndpointSlice', namespace: id.namespace, name: id.name }, source);
  const serviceName = id.labels[SERVICE_NAME_LABEL];
  if (!serviceName) sink.warning(`no ${SERVICE_NAME_LABEL} label: it belongs to no Service (ignored)`);
  const addressType = stringAt(raw, 'addressType');
  if (addressType === 'FQDN') sink.warning('addressType FQDN is not supported (ignored)');
  const usable = addressType !== 'FQDN';
  const ports = usable ? readPorts(arrayAt(raw, 'ports'), 'ports', sink) : [];
  const group: EndpointGroup = { ports, addresses: usable ? readSliceEndpoints(raw, id.namespace, firstPort(ports), sink) : [] };
  const object: EndpointSliceInfo = {
    kind: 'EndpointSlice',
    id,
    key: objectKey(id.namespace, id.name),
    ...(source ? { source } : {}),
    service: serviceName ? objectKey(id.namespace, serviceName) : null,
    groups: [group],
  };
  return { object, problems: sink.problems };
}

/** The port the read addresses of a group stand for (see EndpointAddress); 0 when it has none. */
function firstPort(ports: readonly EndpointPortInfo[]): number {
  return ports[0]?.port ?? 0;
}

function readAddresses(list: readonly unknown[] | undefined, where: string, ready: boolean, namespace: string, port: number, sink: ProblemSink): EndpointAddress[] {
  const addresses: EndpointAddress[] = [];
  list?.forEach((entry, i) => {
    if (!isFields(entry)) return sink.error(`${where}[${i}] is not an object`);
    const ip = stringAt(entry, 'ip');
    if (!ip) return sink.error(`${where}[${i}] has no ip`);
    addresses.push({
      ip, port, ready, serving: ready, terminating: false,
      nodeName: stringAt(entry, 'nodeName') || null,
      pod: readPodRef(entry, namespace),
      serviceAccount: null,
    });
  });
  return addresses;
}

export function readEndpoints(raw: RawObject, source?: SourceLocation): ReadResult<EndpointsInfo> {
  const id = readIdentity(raw, false);
  const sink = new ProblemSink({ kind: 'Endpoints', namespace: id.namespace, name: id.name }, source);
  const groups: EndpointGroup[] = [];
  arrayAt(raw, 'subsets')?.forEach((subset, i) => {
    const where = `subsets[${i}]`;
    if (!isFields(subset)) return sink.error(`${where} is not an object`);
    const ports = readPorts(arrayAt(subset, 'ports'), `${where}.ports`, sink);
    const port = firstPort(ports);
    groups.push({
      ports,
      addresses: [
        ...readAddresses(arrayAt(subset, 'addresses'), `${where}.addresses`, true, id.namespace, port, sink),
        ...readAddresses(arrayAt(subset, 'notReadyAddresses'), `${where}.notReadyAddresses`, false, id.namespace, port, sink),
      ],
    });
  });
  const key = objectKey(id.namespace, id.name);
  const object: EndpointsInfo = { kind: 'Endpoints', id, key, ...(source ? { source } : {}), service: key, groups: fitted(groups) };
  return { object, problems: sink.problems };
}
