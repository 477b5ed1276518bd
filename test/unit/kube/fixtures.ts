/** Objects and CRDs shared by the kube tests. */
import { SMI_RESOURCES } from '../../../src/smi/resources.js';

/** The CRD of one SMI kind serving all the versions Plexus reads. */
export function smiCrd(kind: string): Record<string, unknown> {
  const resource = SMI_RESOURCES.find((r) => r.kind === kind)!;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${resource.plural}.${resource.group}` },
    spec: {
      group: resource.group,
      scope: 'Namespaced',
      names: { kind: resource.kind, plural: resource.plural, singular: resource.singular, listKind: resource.listKind },
      versions: resource.versions.map((name, i) => ({
        name, served: true, storage: i === resource.versions.length - 1,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      })),
    },
  };
}

export function meshedService(namespace: string, name: string, ports: readonly number[]): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { namespace, name, annotations: { 'plexus.dev/mesh': 'true' } },
    spec: { selector: { app: name }, ports: ports.map((port) => ({ name: `p${port}`, port })) },
  };
}

export function endpointSlice(namespace: string, service: string, name: string, addresses: readonly string[], port: number): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: `p${port}`, port, protocol: 'TCP' }],
  };
}
