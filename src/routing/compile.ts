/**
 * The pure compiler: snapshot of raw objects → MeshConfig. No I/O.
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
import { allocate, numberToIpv4, parseIpv4Cidr, validPortRange } from './allocation.js';
import { ipv4Value } from './ip-order.js';
import { assembleService, endpointFacts, type AssemblyContext, type EndpointFacts } from './assemble.js';
import { attachRoutes, type Attachments } from './gateway-attach.js';
import { routeStatuses } from './gateway-status.js';
import { gatewayAssemblyInputs, gatewayProblems } from './gateway-inputs.js';
import { buildCatalog, patchCatalog, type Catalog, type CatalogChange, type IndexedCatalog } from './catalog.js';
import { endpointSources, resolveEndpoints, type ServiceEndpoints } from './endpoints.js';
import { nodeIdentities } from './identities.js';
import type { PodInfo, ReadResult, ServiceInfo } from './kube/types.js';
import type { Endpoint, MeshConfig, MeshService, RouteStatus, SourceIdentity } from './mesh-config.js';
import { isMeshed, meshedPorts, type MeshedPort, type MeshedPorts } from './mesh-ports.js';
import { PodIndex } from './pod-index.js';
import { formatProblem, problem, type Problem, type SourceLocation } from '../model/problem.js';
import { readObject, type ReadObject } from './read-object.js';
import type { CompileOptions } from './compile-options.js';
import type { RawObject, Snapshot } from '../model/snapshot.js';
import { selectSplits, type ActiveSplit } from './splits.js';

interface ReadEntry {
  readonly source: SourceLocation | undefined;
  readonly result: ReadResult<ReadObject>;
}

/** The previous compile's input, by position, and the catalog built from it. */
interface LastRead {
  /** A copy: callers may edit their snapshot's array in place between compiles. */
  readonly raws: readonly RawObject[];
  readonly entries: readonly ReadEntry[];
  readonly catalog: IndexedCatalog;
}

interface EndpointEntry {
  /** The compile that last used it; entries no compile used are dropped. */
  generation: number;
  readonly service: ServiceInfo;
  readonly sources: readonly object[] | null;
  readonly pods: PodIndex;
  readonly deriveFromPods: boolean;
  readonly endpoints: ServiceEndpoints;
}

interface MeshedService {
  readonly service: ServiceInfo;
  readonly ports: readonly MeshedPort[];
}

interface MeshedServices {
  /** Sorted by namespace, then name. */
  readonly list: readonly MeshedService[];
  readonly keys: ReadonlySet<string>;
  readonly problems: readonly Problem[];
}

/** A memo: `value` holds for as long as the inputs are the same (by identity, in order). */
interface Memo<T> {
  readonly inputs: readonly unknown[];
  readonly value: T;
}

interface Assembled {
  readonly service: MeshService;
  readonly problems: readonly Problem[];
}

/** One assembled Service and everything its assembly read: while all are the same, so is it. */
interface AssemblyMemo {
  generation: number;
  readonly service: ServiceInfo;
  readonly endpoints: ServiceEndpoints;
  readonly targets: unknown;
  readonly vip: string | null;
  readonly listenerPorts: readonly number[];
  /** What its TrafficSplit resolution read; null without a split. */
  readonly split: readonly unknown[] | null;
  /** What its Gateway API routes read; null without routes. */
  readonly gateway: readonly unknown[] | null;
  readonly value: Assembled;
}

interface Allocated<T> {
  /** Also the record put in the MeshConfig, so feeding it back as `previous` is recognised. */
  readonly record: Readonly<Record<string, T>>;
  readonly map: ReadonlyMap<string, T>;
  readonly problems: readonly Problem[];
}

export class Compiler {
  private readonly reads = new WeakMap<RawObject, ReadEntry>();
  private lastRead: LastRead | null = null;
  private readonly meshedPortsCache = new WeakMap<ServiceInfo, MeshedPorts>();
  private readonly facts = new WeakMap<readonly Endpoint[], EndpointFacts>();
  /** Counts compiles: memo entries stamped with an older one belong to deleted Services. */
  private generation = 0;
  private readonly endpointCache = new Map<string, EndpointEntry>();
  private readonly assembled = new Map<string, AssemblyMemo>();
  private targets: Memo<{ byDestination: Map<string, ResolvedTarget[]>; problems: Problem[] }> | null = null;
  private ports: Memo<Allocated<number>> | null = null;
  private vips: Memo<Allocated<string>> | null = null;
  private meshed: Memo<MeshedServices> | null = null;
  private pods: PodIndex = new PodIndex(new Map());
  private identities: { pods: PodIndex; nodeName: string; list: SourceIdentity[]; problems: Problem[] } | null = null;

  compile(snapshot: Snapshot, options: CompileOptions): MeshConfig {
    this.generation++;
    const problems: Problem[] = [];
    const catalog = this.readCatalog(snapshot, problems);
    append(problems, catalog.problems);
    this.updatePods(catalog.pods);

    const { list: meshed, keys: meshedKeys, problems: meshedProblems } = this.meshedServices(catalog);
    append(problems, meshedProblems);
    const splits = selectSplits(catalog, (key) => meshedKeys.has(key), problems);
    const targets = this.resolveTargets(catalog);
    append(problems, targets.problems);

    const derive = options.deriveEndpointsFromPods === true;
    const endpointsOf = (service: ServiceInfo): ServiceEndpoints => this.endpointsOf(service, catalog, derive);
    const gateway = catalog.gatewayRoutes.size === 0 ? NO_ATTACHMENTS : attachRoutes(catalog, portsByKey(meshed));
    const routes: RouteStatus[] = gateway === NO_ATTACHMENTS ? [] : routeStatuses(gateway, { catalog, endpointsOf });
    for (const p of gatewayProblems(gateway, routes)) problems.push(p);
    const ports = this.allocatePorts(meshed, options);
    const vips = this.allocateVips(meshed, options);
    append(problems, ports.problems);
    append(problems, vips.problems);

    const context: AssemblyContext = {
      catalog,
      splits,
      targetsByDestination: targets.byDestination,
      endpointsOf,
      factsOf: (list) => this.factsOf(list),
      listenerPortOf: (port) => ports.map.get(port.allocationKey) ?? 0,
      gateway,
    };
    const services = this.assembleAll(meshed, context, vips.map, problems);
    // Forget what deleted Services used, so it can be collected.
    dropStale(this.endpointCache, this.generation);
    dropStale(this.assembled, this.generation);

    const identities = this.nodeIdentities(options.nodeName);
    append(problems, identities.problems);
    return {
      nodeName: options.nodeName,
      meshDomain: options.meshDomain,
      services,
      identities: identities.list,
      allocation: { ports: ports.record, vips: vips.record },
      problems: sortProblems(problems),
      ...(routes.length > 0 ? { routes } : {}),
    };
  }

  /** Every meshed Service's MeshService; reassembled only when something it reads changed. */
  private assembleAll(
    meshed: readonly MeshedService[], context: AssemblyContext, vips: ReadonlyMap<string, string>, problems: Problem[],
  ): MeshService[] {
    const services: MeshService[] = [];
    for (const { service, ports } of meshed) {
      const vip = vips.get(service.key) ?? null;
      const active = context.splits.get(service.key);
      const endpoints = context.endpointsOf(service);
      const split = active ? splitAssemblyInputs(active, context) : null;
      const gateway = gatewayAssemblyInputs(service.key, context);
      let memo = this.assembled.get(service.key);
      if (!memo || !sameAssemblyInputs(memo, service, endpoints, context.targetsByDestination, vip, split, ports, context)
        || !sameOptionalItems(memo.gateway, gateway)) {
        memo = {
          generation: 0, service, endpoints, targets: context.targetsByDestination, vip, split, gateway,
          listenerPorts: ports.map(context.listenerPortOf), value: assembleService(service, ports, vip, context),
        };
        this.assembled.set(service.key, memo);
      }
      memo.generation = this.generation;
      services.push(memo.value.service);
      if (memo.value.problems.length > 0) append(problems, memo.value.problems);
    }
    return services;
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

  /**
   * Reads every object (once per object, WeakMap) and indexes them. When the snapshot has the
   * same length as the previous one, objects are compared by position, and the previous catalog
   * is patched with the replaced ones instead of re-indexing all (see patchCatalog).
   */
  private readCatalog(snapshot: Snapshot, problems: Problem[]): Catalog {
    const raws = snapshot.objects;
    const last = this.lastRead;
    const samePositions = last !== null && last.raws.length === raws.length;
    const entries: ReadEntry[] = new Array<ReadEntry>(raws.length);
    const changes: CatalogChange[] = [];
    let patch = samePositions;
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]!;
      const source = snapshot.sources?.get(raw);
      const before = samePositions ? last.entries[i]! : undefined;
      let entry = before !== undefined && last!.raws[i] === raw ? before : this.reads.get(raw);
      if (!entry || entry.source !== source) {
        entry = { source, result: readSafely(raw, source) };
        this.reads.set(raw, entry);
      }
      entries[i] = entry;
      if (entry.result.problems.length > 0) append(problems, entry.result.problems);
      if (patch && entry !== before) {
        const old = before!.result.object;
        const now = entry.result.object;
        if (old !== now) {
          if (old && now) changes.push({ before: old, after: now });
          else patch = false;
        }
      }
    }
    let catalog: IndexedCatalog;
    if (patch && patchCatalog(last!.catalog, changes)) {
      catalog = last!.catalog;
    } else {
      const objects: ReadObject[] = [];
      for (const entry of entries) if (entry.result.object) objects.push(entry.result.object);
      catalog = buildCatalog(objects);
    }
    this.lastRead = { raws: [...raws], entries, catalog };
    return catalog;
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
    this.meshed = { inputs: candidates, value: { list, keys: new Set(list.map((m) => m.service.key)), problems } };
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

  /** Listener ports; the previous result is reused while the keys, range and previous allocation stay. */
  private allocatePorts(meshed: readonly MeshedService[], options: CompileOptions): Allocated<number> {
    const range = options.listenerPorts;
    if (range === null) return NO_PORTS;
    const previous = options.previous?.ports ?? EMPTY_RECORD;
    const inputs = [range.min, range.max, previous, meshed];
    if (this.ports && sameAllocationInputs(this.ports, inputs, 2)) return this.ports.value;
    const keys = meshed.flatMap(({ ports }) => ports.map((p) => p.allocationKey));
    const problems: Problem[] = [];
    let map = new Map<string, number>();
    if (!validPortRange(range)) {
      problems.push(problem(optionRef('listener-ports'), `${range.min}-${range.max} is not a port range within 1..65535 (no listener ports allocated)`));
    } else {
      map = allocate({ keys, min: range.min, max: range.max, previous });
      for (const { service, ports } of meshed) {
        for (const port of ports) {
          if (!map.has(port.allocationKey)) {
            problems.push(problem(serviceRef(service), `port ${port.port}/${port.protocol}: no free listener port left in ${range.min}-${range.max}`, 'error', service.source));
          }
        }
      }
    }
    const value = { record: Object.fromEntries(map), map, problems };
    this.ports = { inputs, value };
    return value;
  }

  private allocateVips(meshed: readonly MeshedService[], options: CompileOptions): Allocated<string> {
    const cidr = options.vipCidr;
    if (cidr === undefined) return NO_VIPS;
    const previous = options.previous?.vips ?? EMPTY_RECORD;
    const inputs = [cidr, previous, meshed];
    if (this.vips && sameAllocationInputs(this.vips, inputs, 1)) return this.vips.value;
    const keys = meshed.map((m) => m.service.key);
    const problems: Problem[] = [];
    const map = new Map<string, string>();
    const block = parseIpv4Cidr(cidr);
    if (!block) {
      problems.push(problem(optionRef('vip-cidr'), `"${cidr}" is not an IPv4 CIDR such as 127.77.0.0/16 (no virtual IPs allocated)`));
    } else {
      const previousNumbers: Record<string, number> = {};
      for (const [key, ip] of Object.entries(previous)) {
        const n = ipv4Value(ip);
        if (n >= 0) previousNumbers[key] = n;
      }
      const given = allocate({ keys, min: block.first, max: block.last, previous: previousNumbers, placement: 'hashed' });
      for (const { service } of meshed) {
        const n = given.get(service.key);
        if (n === undefined) problems.push(problem(serviceRef(service), `no free virtual IP left in ${cidr}`, 'error', service.source));
        else map.set(service.key, numberToIpv4(n));
      }
    }
    const value = { record: Object.fromEntries(map), map, problems };
    this.vips = { inputs, value };
    return value;
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

const EMPTY_RECORD: Readonly<Record<string, never>> = {};
const NO_VIPS: Allocated<string> = { record: EMPTY_RECORD, map: new Map(), problems: [] };
const NO_PORTS: Allocated<number> = { record: EMPTY_RECORD, map: new Map(), problems: [] };

/** Problems with compile options name the option (`Option vip-cidr: …`). */
function optionRef(name: string) {
  return { kind: 'Option', namespace: '', name };
}

function sameAssemblyInputs(
  memo: AssemblyMemo, service: ServiceInfo, endpoints: ServiceEndpoints, targets: unknown, vip: string | null,
  split: readonly unknown[] | null, ports: readonly MeshedPort[], context: AssemblyContext,
): boolean {
  return memo.service === service && memo.endpoints === endpoints && memo.targets === targets && memo.vip === vip
    && ports.every((port, i) => memo.listenerPorts[i] === context.listenerPortOf(port))
    && (memo.split === split || (memo.split !== null && split !== null && sameItems(memo.split, split)));
}

function sameOptionalItems(a: readonly unknown[] | null, b: readonly unknown[] | null): boolean {
  return a === b || (a !== null && b !== null && sameItems(a, b));
}

const NO_ATTACHMENTS: Attachments = { byService: new Map(), outcomes: [] };

function portsByKey(meshed: readonly MeshedService[]): (key: string) => readonly MeshedPort[] | null {
  const map = new Map<string, readonly MeshedPort[]>();
  for (const { service, ports } of meshed) map.set(service.key, ports);
  return (key) => map.get(key) ?? null;
}

function dropStale(memos: Map<string, { generation: number }>, generation: number): void {
  for (const [key, memo] of memos) if (memo.generation !== generation) memos.delete(key);
}

/** Everything the resolution of a TrafficSplit reads, by identity. */
function splitAssemblyInputs(split: ActiveSplit, context: AssemblyContext): unknown[] {
  const { namespace, matches, backends } = split.split;
  const inputs: unknown[] = [split.split];
  for (const name of matches) inputs.push(context.catalog.routeGroups.get(`${namespace}/${name}`));
  for (const backend of backends) {
    const backendService = context.catalog.services.get(`${namespace}/${backend.service}`);
    inputs.push(backendService, backendService && context.endpointsOf(backendService));
  }
  return inputs;
}

function serviceRef(service: ServiceInfo) {
  return { kind: 'Service', namespace: service.id.namespace, name: service.id.name };
}

/** A reader bug must not take the whole compile down: it becomes a problem on that object. */
function readSafely(raw: RawObject, source: SourceLocation | undefined): ReadResult<ReadObject> {
  try {
    return readObject(raw, source);
  } catch (error) {
    const metadata = typeof raw.metadata === 'object' && raw.metadata !== null ? raw.metadata as Record<string, unknown> : {};
    const ref = {
      kind: typeof raw.kind === 'string' ? raw.kind : 'Object',
      namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
      name: typeof metadata.name === 'string' && metadata.name ? metadata.name : '(unnamed)',
    };
    return { object: null, problems: [problem(ref, `could not be read: ${error instanceof Error ? error.message : String(error)}`, 'error', source)] };
  }
}

/**
 * An allocation memo holds when its other inputs are the same and `previous` (at `at`) is the
 * same object as last time, or the very record that compile produced (fed back as previous).
 */
function sameAllocationInputs<T>(memo: Memo<Allocated<T>>, inputs: readonly unknown[], at: number): boolean {
  const previous = inputs[at];
  return (previous === memo.inputs[at] || previous === memo.value.record)
    && inputs.every((input, i) => i === at || input === memo.inputs[i]);
}

function sameItems(a: readonly unknown[] | null, b: readonly unknown[] | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
