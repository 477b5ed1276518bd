/**
 * The pure compiler: snapshot of raw objects → MeshConfig. No I/O.
 *
 * Its stages, in order: read the objects into a catalog (`compile-read.ts`); find the meshed
 * Services, their TrafficSplits and TrafficTargets, endpoints and Gateway API routes (here);
 * allocate listener ports and VIPs (`compile-allocate.ts`); assemble each MeshService
 * (`compile-assemble.ts`); this node's source identities (here).
 *
 * A `Compiler` remembers its work between compiles, keyed by object identity: each raw object is
 * read once (WeakMap), and a Service's endpoints are recomputed only when the Service, its
 * EndpointSlices/Endpoints or the set of Pods changed. Providers keep unchanged objects as the
 * same references, so a recompile after one changed object costs little more than indexing.
 * Compiled configs share unchanged parts (endpoint lists, policies) and must be treated as
 * immutable.
 */
import { resolveTargets, type ResolvedTarget } from './access.js';
import { append } from '../model/append.js';
import { formatProblem, type Problem } from '../model/problem.js';
import type { Snapshot } from '../model/snapshot.js';
import { endpointFacts, type AssemblyContext, type EndpointFacts } from './assemble.js';
import type { Catalog } from './catalog.js';
import { Allocator, type Allocated } from './compile-allocate.js';
import { ServiceAssembler } from './compile-assemble.js';
import { dropStale, sameItems, type Memo } from './compile-memo.js';
import type { CompileOptions } from './compile-options.js';
import { CatalogReader } from './compile-read.js';
import { endpointScope, rootsByBackend, sameCompileScope } from './compile-scope.js';
import { endpointSources, resolveEndpoints, type ServiceEndpoints } from './endpoints.js';
import { attachRoutes, type Attachments } from './gateway-attach.js';
import { gatewayProblems } from './gateway-inputs.js';
import { routeStatuses } from './gateway-status.js';
import { nodeIdentities } from './identities.js';
import type { PodInfo, ServiceInfo } from './kube/types.js';
import type { Endpoint, MeshConfig, RouteStatus, SourceIdentity } from './mesh-config.js';
import { hasOwnNames, isMeshed, meshedPorts, type MeshedPort, type MeshedPorts, type MeshedService } from './mesh-ports.js';
import { PodIndex } from './pod-index.js';
import { selectSplits, type ActiveSplit } from './splits.js';

interface EndpointEntry {
  /** The compile that last used it; entries no compile used are dropped. */
  generation: number;
  readonly service: ServiceInfo;
  readonly sources: readonly object[] | null;
  readonly pods: PodIndex;
  readonly deriveFromPods: boolean;
  readonly endpoints: ServiceEndpoints;
}

interface MeshedServices {
  /** Sorted by namespace, then name. */
  readonly list: readonly MeshedService[];
  /** Each one's position in `list`, by key (also: which keys are meshed). */
  readonly index: ReadonlyMap<string, number>;
  readonly problems: readonly Problem[];
}

/** What the last compile found, for a next compile that only some Services' endpoints changed. */
interface LastCompile {
  readonly options: CompileOptions;
  readonly meshed: MeshedServices;
  readonly splits: ReadonlyMap<string, ActiveSplit>;
  readonly splitProblems: readonly Problem[];
  readonly ports: Allocated<number>;
  readonly vips: Allocated<string>;
  readonly config: MeshConfig;
  /** Split roots by backend Service key, computed on first need. */
  rootsByBackend: ReadonlyMap<string, readonly string[]> | null;
}

export class Compiler {
  private readonly reader = new CatalogReader();
  private readonly allocator = new Allocator();
  private readonly assembler = new ServiceAssembler();
  private readonly meshedPortsCache = new WeakMap<ServiceInfo, MeshedPorts>();
  private readonly facts = new WeakMap<readonly Endpoint[], EndpointFacts>();
  /** Counts compiles: memo entries stamped with an older one belong to deleted Services. */
  private generation = 0;
  private readonly endpointCache = new Map<string, EndpointEntry>();
  private targets: Memo<{ byDestination: Map<string, ResolvedTarget[]>; problems: Problem[] }> | null = null;
  private meshed: Memo<MeshedServices> | null = null;
  private pods: PodIndex = new PodIndex(new Map());
  private identities: { pods: PodIndex; nodeName: string; list: SourceIdentity[]; problems: Problem[] } | null = null;
  private last: LastCompile | null = null;

  compile(snapshot: Snapshot, options: CompileOptions): MeshConfig {
    this.generation++;
    const problems: Problem[] = [];
    const { catalog, changes } = this.reader.read(snapshot, problems);
    append(problems, catalog.problems);
    this.updatePods(catalog.pods);
    const last = this.last;
    if (last !== null && catalog.gatewayRoutes.size === 0 && sameCompileScope(last.options, options)) {
      const scope = endpointScope(changes, () => last.rootsByBackend ??= rootsByBackend(last.splits));
      const config = scope === null ? null : this.compileScope(scope, last, catalog, options, problems);
      if (config !== null) return config;
    }
    return this.compileAll(catalog, options, problems);
  }

  /** Every stage over every Service (each memoized per input); `problems` holds the reader's. */
  private compileAll(catalog: Catalog, options: CompileOptions, problems: Problem[]): MeshConfig {
    const meshed = this.meshedServices(catalog);
    append(problems, meshed.problems);
    const splitProblems: Problem[] = [];
    const splits = selectSplits(catalog, (key) => meshed.index.has(key), splitProblems);
    append(problems, splitProblems);
    const targets = this.resolveTargets(catalog);
    append(problems, targets.problems);

    const derive = options.deriveEndpointsFromPods === true;
    const endpointsOf = (service: ServiceInfo): ServiceEndpoints => this.endpointsOf(service, catalog, derive);
    const gateway = catalog.gatewayRoutes.size === 0 ? NO_ATTACHMENTS : attachRoutes(catalog, portsByKey(meshed.list));
    const routes: RouteStatus[] = gateway === NO_ATTACHMENTS ? [] : routeStatuses(gateway, { catalog, endpointsOf });
    for (const p of gatewayProblems(gateway, routes)) problems.push(p);
    const ports = this.allocator.ports(meshed.list, options);
    const vips = this.allocator.vips(meshed.list, options);
    append(problems, ports.problems);
    append(problems, vips.problems);

    const context = this.context(catalog, splits, targets.byDestination, gateway, ports, derive);
    const services = this.assembler.assembleAll(meshed.list, context, vips.map, problems);
    // Forget what deleted Services used, so it can be collected.
    dropStale(this.endpointCache, this.generation);

    const identities = this.nodeIdentities(options.nodeName);
    append(problems, identities.problems);
    const config: MeshConfig = {
      nodeName: options.nodeName,
      meshDomain: options.meshDomain,
      services,
      identities: identities.list,
      allocation: { ports: ports.record, vips: vips.record },
      problems: sortProblems(problems),
      ...(routes.length > 0 ? { routes } : {}),
      ...ownNamesOf(meshed.list, catalog),
    };
    this.last = { options, meshed, splits, splitProblems, ports, vips, config, rootsByBackend: null };
    return config;
  }

  /**
   * Only the Services in `scope` assembled again, everything else as the last compile had it
   * (same meshed Services, splits, allocation): the result is what compileAll would return.
   * Null when the allocation moved (then everything is compiled).
   */
  private compileScope(scope: ReadonlySet<string>, last: LastCompile, catalog: Catalog, options: CompileOptions, problems: Problem[]): MeshConfig | null {
    const ports = this.allocator.ports(last.meshed.list, options);
    const vips = this.allocator.vips(last.meshed.list, options);
    const targets = this.resolveTargets(catalog);
    if (ports !== last.ports || vips !== last.vips) return null;
    const derive = options.deriveEndpointsFromPods === true;
    const context = this.context(catalog, last.splits, targets.byDestination, NO_ATTACHMENTS, ports, derive);
    const services = this.assembler.reassemble(last.config.services, last.meshed, scope, context, vips.map);
    const identities = this.nodeIdentities(options.nodeName);
    for (const list of [last.meshed.problems, last.splitProblems, targets.problems, ports.problems, vips.problems, this.assembler.problems(), identities.problems]) {
      append(problems, list);
    }
    const config: MeshConfig = { ...last.config, services, identities: identities.list, problems: sortProblems(problems) };
    this.last = { ...last, options, config };
    return config;
  }

  private context(
    catalog: Catalog, splits: ReadonlyMap<string, ActiveSplit>, targetsByDestination: ReadonlyMap<string, readonly ResolvedTarget[]>,
    gateway: Attachments, ports: Allocated<number>, derive: boolean,
  ): AssemblyContext {
    return {
      catalog,
      splits,
      targetsByDestination,
      endpointsOf: (service) => this.endpointsOf(service, catalog, derive),
      factsOf: (list) => this.factsOf(list),
      listenerPortOf: (port) => ports.map.get(port.allocationKey) ?? 0,
      gateway,
    };
  }

  /** TrafficTargets with their routes, re-resolved only when one of those objects changed. */
  private resolveTargets(catalog: Catalog): { byDestination: Map<string, ResolvedTarget[]>; problems: Problem[] } {
    const inputs = [catalog.trafficTargets, catalog.routeGroups, catalog.tcpRoutes, catalog.udpRoutes]
      .flatMap((map) => [map.size, ...map.values()]);
    if (this.targets && sameItems(this.targets.inputs, inputs)) return this.targets.value;
    const problems: Problem[] = [];
    const byDestination = resolveTargets(catalog, problems);
    this.targets = { inputs, value: { byDestination, problems } };
    return this.targets.value;
  }

  /** Reuses the pod index while the set of Pods is unchanged (same objects). */
  private updatePods(pods: ReadonlyMap<string, PodInfo>): void {
    const previous = this.pods.byKey;
    let same = previous.size === pods.size;
    if (same) for (const [key, pod] of pods) if (previous.get(key) !== pod) { same = false; break; }
    if (!same) this.pods = new PodIndex(pods);
  }

  /** The meshed Services, sorted; the previous list is reused while the same Services are meshed. */
  private meshedServices(catalog: Catalog): MeshedServices {
    const candidates: ServiceInfo[] = [];
    for (const service of catalog.services.values()) if (isMeshed(service, catalog.namespaces)) candidates.push(service);
    if (this.meshed && sameItems(this.meshed.inputs, candidates)) return this.meshed.value;
    const list: MeshedService[] = [];
    const problems: Problem[] = [];
    for (const service of candidates) {
      let result = this.meshedPortsCache.get(service);
      if (!result) {
        result = meshedPorts(service);
        this.meshedPortsCache.set(service, result);
      }
      append(problems, result.problems);
      if (result.ports) list.push({ service, ports: result.ports });
    }
    list.sort((a, b) => compareStrings(a.service.id.namespace, b.service.id.namespace) || compareStrings(a.service.id.name, b.service.id.name));
    const index = new Map(list.map((m, i) => [m.service.key, i]));
    this.meshed = { inputs: candidates, value: { list, index, problems } };
    return this.meshed.value;
  }

  /** A Service's endpoints, once per compile; recomputed only when what they come from changed. */
  private endpointsOf(service: ServiceInfo, catalog: Catalog, deriveFromPods: boolean): ServiceEndpoints {
    let entry = this.endpointCache.get(service.key);
    if (entry?.generation === this.generation && entry.service === service) return entry.endpoints;
    const sources = endpointSources(service, catalog, deriveFromPods);
    if (!entry || entry.service !== service || entry.pods !== this.pods || entry.deriveFromPods !== deriveFromPods || !sameItems(entry.sources, sources)) {
      entry = { generation: 0, service, sources, pods: this.pods, deriveFromPods, endpoints: resolveEndpoints(service, catalog, this.pods, deriveFromPods) };
      this.endpointCache.set(service.key, entry);
    }
    entry.generation = this.generation;
    return entry.endpoints;
  }

  private factsOf(list: readonly Endpoint[]): EndpointFacts {
    let facts = this.facts.get(list);
    if (!facts) {
      facts = endpointFacts(list);
      this.facts.set(list, facts);
    }
    return facts;
  }

  private nodeIdentities(nodeName: string): { list: SourceIdentity[]; problems: Problem[] } {
    const cached = this.identities;
    if (cached && cached.pods === this.pods && cached.nodeName === nodeName) return cached;
    const problems: Problem[] = [];
    const list = nodeIdentities(this.pods.byKey.values(), nodeName, problems);
    this.identities = { pods: this.pods, nodeName, list, problems };
    return this.identities;
  }
}

/** Compiles once, with nothing remembered: a fresh Compiler. */
export function compile(snapshot: Snapshot, options: CompileOptions): MeshConfig {
  return new Compiler().compile(snapshot, options);
}

const NO_ATTACHMENTS: Attachments = { byService: new Map(), outcomes: [] };

/** `ownNames` of the config: the meshed Services (sorted already) that opt in. */
function ownNamesOf(meshed: readonly MeshedService[], catalog: Catalog): { ownNames?: readonly string[] } {
  const keys: string[] = [];
  for (const { service } of meshed) if (hasOwnNames(service, catalog.namespaces)) keys.push(service.key);
  return keys.length > 0 ? { ownNames: keys } : {};
}

function portsByKey(meshed: readonly MeshedService[]): (key: string) => readonly MeshedPort[] | null {
  const map = new Map<string, readonly MeshedPort[]>();
  for (const { service, ports } of meshed) map.set(service.key, ports);
  return (key) => map.get(key) ?? null;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted by kind, namespace, name, message; the same problem found twice is listed once. */
function sortProblems(problems: readonly Problem[]): Problem[] {
  const unique = new Map<string, Problem>();
  for (const p of problems) {
    const key = `${p.severity}\n${formatProblem(p)}`;
    if (!unique.has(key)) unique.set(key, p);
  }
  return [...unique.values()].sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.namespace, b.namespace)
    || compareStrings(a.name, b.name) || compareStrings(a.message, b.message));
}
