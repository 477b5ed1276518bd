/** Assembly of one meshed Service: its ports with destinations, HTTP rules and access rules. */
import { accessRules, type ResolvedTarget } from './access.js';
import type { Catalog } from './catalog.js';
import { servicePortId, type ServiceEndpoints } from './endpoints.js';
import type { Attachments } from './gateway-attach.js';
import { gatewayRouting, noRouteMatched } from './gateway-rules.js';
import type { ConsumerRouting, Destination, Endpoint, HttpRule, MeshPort, MeshService } from './mesh-config.js';
import type { MeshedPort } from './mesh-ports.js';
import type { ServiceInfo } from './kube/types.js';
import { problem, type Problem } from '../model/problem.js';
import { splitDestination, type ActiveSplit } from './splits.js';

export interface EndpointFacts {
  /** `namespace/serviceAccount` of the pods behind the endpoints. */
  readonly identities: ReadonlySet<string>;
  /** Their (target) ports. */
  readonly ports: ReadonlySet<number>;
}

export function endpointFacts(endpoints: readonly Endpoint[]): EndpointFacts {
  const identities = new Set<string>();
  const ports = new Set<number>();
  for (const endpoint of endpoints) {
    ports.add(endpoint.port);
    if (endpoint.pod && endpoint.serviceAccount) {
      identities.add(`${endpoint.pod.slice(0, endpoint.pod.indexOf('/'))}/${endpoint.serviceAccount}`);
    }
  }
  return { identities, ports };
}

export interface AssemblyContext {
  readonly catalog: Catalog;
  readonly splits: ReadonlyMap<string, ActiveSplit>;
  readonly targetsByDestination: ReadonlyMap<string, readonly ResolvedTarget[]>;
  readonly endpointsOf: (service: ServiceInfo) => ServiceEndpoints;
  /** What access rules need to know about an endpoint list (memoized per list). */
  readonly factsOf: (endpoints: readonly Endpoint[]) => EndpointFacts;
  readonly listenerPortOf: (port: MeshedPort) => number;
  /** Gateway API routes attached to Service ports. */
  readonly gateway: Attachments;
}

function endpointLists(destination: Destination): (readonly Endpoint[])[] {
  return destination.kind === 'backends' ? destination.backends.map((b) => b.endpoints) : [];
}

/** Every endpoint list a port may send to (mirrors excepted: they only get copies). */
function portEndpointLists(destinations: readonly Destination[], rules: readonly HttpRule[], consumers: readonly ConsumerRouting[]): (readonly Endpoint[])[] {
  const all = [...destinations, ...rules.map((r) => r.destination)];
  for (const consumer of consumers) {
    all.push(consumer.destination);
    for (const rule of consumer.rules) all.push(rule.destination);
  }
  return all.flatMap(endpointLists);
}

function assemblePort(service: ServiceInfo, port: MeshedPort, context: AssemblyContext, problems: Problem[]): MeshPort {
  const { catalog } = context;
  const own = context.endpointsOf(service).get(servicePortId(port)) ?? [];
  const rootDestination: Destination = { kind: 'backends', split: null, backends: [{ service: service.key, weight: 1, endpoints: own }] };
  let destination: Destination = rootDestination;
  const rules: HttpRule[] = [];

  const active = context.splits.get(service.key);
  if (active) {
    if (active.matches === null) {
      destination = splitDestination(active, service, port, catalog, context.endpointsOf, problems);
    } else if (port.trafficType === 'http') {
      rules.push({ matches: active.matches, destination: splitDestination(active, service, port, catalog, context.endpointsOf, problems) });
    } else {
      const { split } = active;
      problems.push(problem({ kind: 'TrafficSplit', namespace: split.namespace, name: split.name },
        `matches apply to HTTP only: ${port.trafficType} port ${port.port}/${port.protocol} of ${service.key} is not split`, 'warning', split.source));
    }
  }

  let consumers: ConsumerRouting[] = [];
  const attached = context.gateway.byService.get(service.key)?.get(servicePortId(port));
  if (attached !== undefined && attached.length > 0) {
    // Gateway API routes come first; a TrafficSplit on the same port answers what none matches.
    const routing = gatewayRouting(attached, service.id.namespace, context);
    if (routing.producer !== null) {
      const smiRules = rules.splice(0);
      for (const rule of routing.producer) rules.push(rule);
      for (const rule of smiRules) rules.push(rule);
      if (!active) destination = noRouteMatched();
    }
    consumers = routing.consumers;
  }

  const lists = portEndpointLists([rootDestination, destination], rules, consumers);
  const identities = new Set<string>();
  const targetPorts = new Set<number>(port.targetPort === null ? [] : [port.targetPort]);
  for (const list of new Set(lists)) {
    const facts = context.factsOf(list);
    for (const identity of facts.identities) identities.add(identity);
    for (const targetPort of facts.ports) targetPorts.add(targetPort);
  }

  return {
    name: port.name,
    port: port.port,
    protocol: port.protocol,
    trafficType: port.trafficType,
    scheme: port.scheme,
    listenerPort: context.listenerPortOf(port),
    rules,
    destination,
    ...(consumers.length > 0 ? { consumers } : {}),
    access: accessRules(port, identities, targetPorts, context.targetsByDestination),
  };
}

/** The MeshService of a meshed Service, and the problems found while assembling it. */
export function assembleService(
  service: ServiceInfo, ports: readonly MeshedPort[], vip: string | null, context: AssemblyContext,
): { service: MeshService; problems: Problem[] } {
  const problems: Problem[] = [];
  const meshService: MeshService = {
    key: service.key,
    namespace: service.id.namespace,
    name: service.id.name,
    clusterIP: service.clusterIP,
    vip,
    ports: ports.map((port) => assemblePort(service, port, context, problems)),
    policy: service.annotations.policy,
  };
  return { service: meshService, problems };
}
