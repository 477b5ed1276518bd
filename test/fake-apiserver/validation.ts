/**
 * Defaulting and validation of the kinds Plexus reads and writes, following the real API
 * server's rules for the fields that matter (names, ports, addresses, required fields).
 * Validation returns field causes; the server turns them into a 422 `Invalid` Status.
 */
import { isIP } from 'node:net';
import { isObject, type Json, type JsonObject } from './patch.js';
import type { NameRule, ResourceType } from './resources.js';

export interface Cause {
  readonly field: string;
  readonly reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong';
  readonly message: string;
}

export interface ValidationOptions {
  /** Test-only: accept loopback addresses in EndpointSlices and Endpoints (the real server rejects them). */
  readonly allowLoopbackEndpoints: boolean;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** IsValidPortName: ≤ 15 characters, lower-case alphanumerics and '-', a letter, no '--', no '-' at an end. */
const IANA_SVC_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function invalid(field: string, value: Json | undefined, detail: string): Cause {
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value ?? null)}: ${detail}` };
}

function required(field: string): Cause {
  return { field, reason: 'FieldValueRequired', message: 'Required value' };
}

function notSupported(field: string, value: Json | undefined, allowed: readonly string[]): Cause {
  return {
    field, reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value ?? null)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
  };
}

export function validateName(name: string, rule: NameRule, field = 'metadata.name'): Cause[] {
  switch (rule) {
    case 'dns1035-label':
      if (name.length > 63) return [invalid(field, name, 'must be no more than 63 characters')];
      if (!DNS1035_LABEL.test(name)) {
        return [invalid(field, name, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character")];
      }
      return [];
    case 'dns1123-label':
      if (name.length > 63) return [invalid(field, name, 'must be no more than 63 characters')];
      if (!DNS1123_LABEL.test(name)) {
        return [invalid(field, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character")];
      }
      return [];
    case 'dns1123-subdomain':
    case 'crd-name':
      if (name.length > 253) return [invalid(field, name, 'must be no more than 253 characters')];
      if (!DNS1123_SUBDOMAIN.test(name)) {
        return [invalid(field, name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")];
      }
      return [];
  }
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function validatePortNumber(value: Json | undefined, field: string): Cause[] {
  if (value === undefined || value === null) return [required(field)];
  return isPort(value) ? [] : [invalid(field, value, 'must be between 1 and 65535, inclusive')];
}

function validateTargetPort(value: Json | undefined, field: string): Cause[] {
  if (value === undefined) return [];
  if (typeof value === 'string') {
    if (value.length > 15) return [invalid(field, value, 'must be no more than 15 characters')];
    return IANA_SVC_NAME.test(value) ? [] : [invalid(field, value, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at least one letter, no consecutive hyphens, and may not begin or end with a hyphen')];
  }
  return validatePortNumber(value, field);
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** Real-server defaulting that changes what clients read back. */
export function applyDefaults(type: ResourceType, object: JsonObject, allocateClusterIP: () => string): void {
  if (type.group === '' && type.kind === 'Service') defaultService(object, allocateClusterIP);
  if (type.group === '' && type.kind === 'Namespace') {
    const status = isObject(object.status) ? object.status : {};
    object.status = { ...status, phase: 'Active' };
  }
  if (type.group === '' && type.kind === 'Pod') {
    const spec = isObject(object.spec) ? object.spec : {};
    if (spec.serviceAccountName === undefined) spec.serviceAccountName = 'default';
    const status = isObject(object.status) ? object.status : {};
    if (status.phase === undefined) object.status = { ...status, phase: 'Pending' };
  }
}

function defaultService(object: JsonObject, allocateClusterIP: () => string): void {
  const spec: JsonObject = isObject(object.spec) ? object.spec : {};
  object.spec = spec;
  if (spec.type === undefined) spec.type = 'ClusterIP';
  if (spec.sessionAffinity === undefined) spec.sessionAffinity = 'None';
  if (Array.isArray(spec.ports)) {
    for (const port of spec.ports) {
      if (!isObject(port)) continue;
      if (port.protocol === undefined) port.protocol = 'TCP';
      // SetDefaults_Service: an unset, 0 or "" targetPort becomes the port.
      if ((port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') && port.port !== undefined) port.targetPort = port.port;
    }
  }
  if (spec.type === 'ExternalName') return;
  if (spec.internalTrafficPolicy === undefined) spec.internalTrafficPolicy = 'Cluster';
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    const ip = allocateClusterIP();
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  } else if (spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP];
  if (spec.ipFamilies === undefined && spec.clusterIP !== 'None') spec.ipFamilies = ['IPv4'];
  if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = 'SingleStack';
}

export function validate(type: ResourceType, object: JsonObject, options: ValidationOptions): Cause[] {
  const key = `${type.group}/${type.kind}`;
  switch (key) {
    case '/Service': return validateService(object);
    case 'discovery.k8s.io/EndpointSlice': return validateEndpointSlice(object, options);
    case '/Endpoints': return validateEndpoints(object, options);
    case '/Pod': return validatePod(object, 'spec');
    case 'apps/Deployment': return validateDeployment(object);
    case '/Event': return validateEvent(object);
    case 'coordination.k8s.io/Lease': return validateLease(object);
    case 'apiextensions.k8s.io/CustomResourceDefinition': return validateCrd(object);
    default: return [];
  }
}

function validateService(object: JsonObject): Cause[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const causes: Cause[] = [];
  const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
  if (!types.includes(String(spec.type))) causes.push(notSupported('spec.type', spec.type, types));
  const externalName = spec.type === 'ExternalName';
  if (externalName && (typeof spec.externalName !== 'string' || spec.externalName === '')) causes.push(required('spec.externalName'));
  if (externalName) {
    for (const field of ['clusterIPs', 'ipFamilies']) {
      if (Array.isArray(spec[field]) && spec[field].length > 0) causes.push({ field: `spec.${field}`, reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for ExternalName services' });
    }
  }
  const policies = ['Cluster', 'Local'];
  if (!externalName && !policies.includes(String(spec.internalTrafficPolicy))) {
    causes.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, policies));
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && spec.clusterIP !== 'None' && !externalName) causes.push(required('spec.ports'));
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((port, i) => {
    const field = `spec.ports[${i}]`;
    if (!isObject(port)) {
      causes.push(invalid(field, port, 'must be an object'));
      return;
    }
    causes.push(...validatePortNumber(port.port, `${field}.port`));
    causes.push(...validateTargetPort(port.targetPort, `${field}.targetPort`));
    if (!PROTOCOLS.includes(String(port.protocol))) causes.push(notSupported(`${field}.protocol`, port.protocol, PROTOCOLS));
    if (ports.length > 1 && (typeof port.name !== 'string' || port.name === '')) causes.push(required(`${field}.name`));
    if (typeof port.name === 'string' && port.name !== '') {
      causes.push(...validateName(port.name, 'dns1123-label', `${field}.name`));
      if (names.has(port.name)) causes.push({ field: `${field}.name`, reason: 'FieldValueDuplicate', message: `Duplicate value: "${port.name}"` });
      names.add(port.name);
    }
    // ValidateService: (port, protocol) pairs are unique.
    const pair = `${String(port.port)}/${String(port.protocol)}`;
    if (numbers.has(pair)) {
      causes.push({ field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify({ port: port.port ?? null, protocol: port.protocol ?? null })}` });
    }
    numbers.add(pair);
    if (port.nodePort !== undefined && !isPort(port.nodePort)) {
      causes.push(invalid(`${field}.nodePort`, port.nodePort, 'must be between 1 and 65535, inclusive'));
    }
  });
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None' && isIP(spec.clusterIP) === 0) {
    causes.push(invalid('spec.clusterIP', spec.clusterIP, 'must be a valid IP address'));
  }
  return causes;
}

/** The real server's ValidateNonSpecialIP: unspecified, loopback, link-local and multicast link-local. */
function specialIPReason(ip: string): string | null {
  if (ip === '0.0.0.0' || ip === '::') return 'may not be unspecified (0.0.0.0)';
  if (ip.startsWith('127.') || ip === '::1') return 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
  if (ip.startsWith('169.254.') || /^fe[89ab]/i.test(ip)) return 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
  if (ip.startsWith('224.0.0.') || /^ff02:/i.test(ip)) return 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
  return null;
}

function validateEndpointIP(ip: Json | undefined, field: string, family: 4 | 6 | 0, options: ValidationOptions): Cause[] {
  if (typeof ip !== 'string') return [required(field)];
  const version = isIP(ip);
  if (version === 0) return [invalid(field, ip, 'must be a valid IP address')];
  if (family !== 0 && version !== family) return [invalid(field, ip, `must be an IPv${family} address`)];
  const special = specialIPReason(ip);
  if (special && !(options.allowLoopbackEndpoints && special.includes('loopback'))) return [invalid(field, ip, special)];
  return [];
}

function validateEndpointSlice(object: JsonObject, options: ValidationOptions): Cause[] {
  const causes: Cause[] = [];
  const addressTypes = ['IPv4', 'IPv6', 'FQDN'];
  const addressType = object.addressType;
  if (addressType === undefined) causes.push(required('addressType'));
  else if (!addressTypes.includes(String(addressType))) causes.push(notSupported('addressType', addressType, addressTypes));
  const endpoints = object.endpoints === undefined || object.endpoints === null ? [] : object.endpoints;
  if (!Array.isArray(endpoints)) return [...causes, invalid('endpoints', endpoints, 'must be a list')];
  endpoints.forEach((endpoint, i) => {
    const field = `endpoints[${i}]`;
    const addresses = isObject(endpoint) && Array.isArray(endpoint.addresses) ? endpoint.addresses : [];
    if (addresses.length === 0) causes.push(required(`${field}.addresses`));
    if (addresses.length > 100) causes.push({ field: `${field}.addresses`, reason: 'FieldValueInvalid', message: 'Too many: must have at most 100 items' });
    addresses.forEach((address, j) => {
      const af = `${field}.addresses[${j}]`;
      if (addressType === 'FQDN') {
        if (typeof address !== 'string' || !DNS1123_SUBDOMAIN.test(address)) causes.push(invalid(af, address, 'must be a valid DNS subdomain'));
      } else if (addressType === 'IPv4' || addressType === 'IPv6') {
        causes.push(...validateEndpointIP(address, af, addressType === 'IPv4' ? 4 : 6, options));
      }
    });
  });
  const ports = Array.isArray(object.ports) ? object.ports : [];
  ports.forEach((port, i) => {
    if (!isObject(port)) return;
    const field = `ports[${i}]`;
    if (port.port !== undefined && port.port !== null && !(typeof port.port === 'number' && Number.isInteger(port.port) && port.port >= 0 && port.port <= 65535)) {
      causes.push(invalid(`${field}.port`, port.port, 'must be between 0 and 65535, inclusive'));
    }
    if (port.protocol !== undefined && !PROTOCOLS.includes(String(port.protocol))) causes.push(notSupported(`${field}.protocol`, port.protocol, PROTOCOLS));
  });
  return causes;
}

function validateEndpoints(object: JsonObject, options: ValidationOptions): Cause[] {
  const causes: Cause[] = [];
  const subsets = Array.isArray(object.subsets) ? object.subsets : [];
  subsets.forEach((subset, i) => {
    if (!isObject(subset)) return;
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      const addresses = Array.isArray(subset[list]) ? subset[list] : [];
      addresses.forEach((address, j) => {
        causes.push(...validateEndpointIP(isObject(address) ? address.ip : undefined, `subsets[${i}].${list}[${j}].ip`, 0, options));
      });
    }
    const ports = Array.isArray(subset.ports) ? subset.ports : [];
    ports.forEach((port, j) => {
      if (isObject(port)) causes.push(...validatePortNumber(port.port, `subsets[${i}].ports[${j}].port`));
    });
  });
  return causes;
}

function validatePod(object: JsonObject, specField: string): Cause[] {
  const spec = isObject(object.spec) ? object.spec : undefined;
  if (!spec) return [required(specField)];
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) return [required(`${specField}.containers`)];
  const causes: Cause[] = [];
  containers.forEach((container, i) => {
    const field = `${specField}.containers[${i}]`;
    if (!isObject(container) || typeof container.name !== 'string' || container.name === '') causes.push(required(`${field}.name`));
    else causes.push(...validateName(container.name, 'dns1123-label', `${field}.name`));
    if (!isObject(container) || typeof container.image !== 'string' || container.image === '') causes.push(required(`${field}.image`));
  });
  return causes;
}

function validateDeployment(object: JsonObject): Cause[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const causes: Cause[] = [];
  const selector = isObject(spec.selector) ? spec.selector : undefined;
  if (!selector) causes.push(required('spec.selector'));
  const template = isObject(spec.template) ? spec.template : {};
  const templateLabels = isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {};
  const matchLabels = selector && isObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(matchLabels)) {
    if (templateLabels[k] !== v) {
      causes.push(invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'));
      break;
    }
  }
  causes.push(...validatePod(template, 'spec.template.spec'));
  if (spec.replicas !== undefined && !(typeof spec.replicas === 'number' && Number.isInteger(spec.replicas) && spec.replicas >= 0)) {
    causes.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  }
  return causes;
}

/**
 * legacyValidateEvent (core/v1 Events without eventTime): involvedObject.namespace must equal the
 * Event's namespace; an involved object without a namespace (cluster-scoped) needs the Event in
 * `default`. With eventTime set, reportingComponent, reportingInstance, action and reason are required.
 */
function validateEvent(object: JsonObject): Cause[] {
  const involved = isObject(object.involvedObject) ? object.involvedObject : {};
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const namespace = metadata.namespace;
  const involvedNamespace = typeof involved.namespace === 'string' ? involved.namespace : '';
  const causes: Cause[] = [];
  const mismatch = invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');
  if (object.eventTime === undefined || object.eventTime === null) {
    if (involvedNamespace === '' ? namespace !== 'default' : involvedNamespace !== namespace) causes.push(mismatch);
    return causes;
  }
  if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') causes.push(mismatch);
  for (const field of ['reportingComponent', 'reportingInstance', 'action', 'reason'] as const) {
    if (typeof object[field] !== 'string' || object[field] === '') causes.push(required(field));
  }
  return causes;
}

function validateLease(object: JsonObject): Cause[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const causes: Cause[] = [];
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) causes.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) causes.push(invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  return causes;
}

function validateCrd(object: JsonObject): Cause[] {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const spec = isObject(object.spec) ? object.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const causes: Cause[] = [];
  if (typeof spec.group !== 'string' || spec.group === '') causes.push(required('spec.group'));
  if (typeof names.plural !== 'string' || names.plural === '') causes.push(required('spec.names.plural'));
  if (typeof names.kind !== 'string' || names.kind === '') causes.push(required('spec.names.kind'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  if (typeof spec.group === 'string' && typeof names.plural === 'string' && metadata.name !== `${names.plural}.${spec.group}`) {
    causes.push(invalid('metadata.name', metadata.name, 'must be spec.names.plural+"."+spec.group'));
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) causes.push(required('spec.versions'));
  const storage = versions.filter((v) => isObject(v) && v.storage === true).length;
  if (versions.length > 0 && storage !== 1) causes.push(invalid('spec.versions', null, 'must have exactly one version marked as storage version'));
  versions.forEach((v, i) => {
    if (!isObject(v) || typeof v.name !== 'string' || v.name === '') causes.push(required(`spec.versions[${i}].name`));
    if (!isObject(v) || typeof v.served !== 'boolean') causes.push(required(`spec.versions[${i}].served`));
  });
  return causes;
}

/** metav1.MicroTime as the real server decodes it: RFC 3339 with exactly six fraction digits. */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/**
 * Lease fields the real server fails to decode (400 BadRequest before validation): MicroTime
 * fields written with another precision (JavaScript's millisecond `toISOString()`), and
 * holderIdentity / leaseDurationSeconds / leaseTransitions of the wrong JSON type.
 */
export function decodeError(type: ResourceType, object: JsonObject): string | null {
  if (type.group !== 'coordination.k8s.io' || type.kind !== 'Lease') return null;
  const spec = isObject(object.spec) ? object.spec : {};
  const cannot = (detail: string): string => `Lease in version "v1" cannot be handled as a Lease: ${detail}`;
  for (const field of ['acquireTime', 'renewTime'] as const) {
    const value = spec[field];
    if (value !== undefined && value !== null && !(typeof value === 'string' && MICRO_TIME.test(value))) {
      return cannot(`parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse (spec.${field})`);
    }
  }
  if (spec.holderIdentity !== undefined && spec.holderIdentity !== null && typeof spec.holderIdentity !== 'string') {
    return cannot(`json: cannot unmarshal ${typeof spec.holderIdentity} into Go struct field LeaseSpec.spec.holderIdentity of type string`);
  }
  for (const field of ['leaseDurationSeconds', 'leaseTransitions'] as const) {
    const value = spec[field];
    if (value !== undefined && value !== null && !(typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1)) {
      return cannot(`json: cannot unmarshal ${JSON.stringify(value)} into Go struct field LeaseSpec.spec.${field} of type int32`);
    }
  }
  return null;
}
