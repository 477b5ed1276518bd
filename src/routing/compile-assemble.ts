/**
 * The compiler's assembly stage: each meshed Service's MeshService (ports, routes, splits,
 * endpoints, access rules), reassembled only when something its assembly read changed; the
 * assembly of a Service that is gone is forgotten.
 */
import { append } from '../model/append.js';
import type { Problem } from '../model/problem.js';
import { assembleService, type AssemblyContext } from './assemble.js';
import { dropStale, sameItems } from './compile-memo.js';
import type { ServiceEndpoints } from './endpoints.js';
import { gatewayAssemblyInputs } from './gateway-inputs.js';
import type { ServiceInfo } from './kube/types.js';
import type { MeshService } from './mesh-config.js';
import type { MeshedPort, MeshedService } from './mesh-ports.js';
import type { ActiveSplit } from './splits.js';

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

export class ServiceAssembler {
  private readonly assembled = new Map<string, AssemblyMemo>();
  /** The problems of each Service that has some, by key: the config's problems without a walk of every memo. */
  private readonly withProblems = new Map<string, readonly Problem[]>();
  /** Counts assemblies: memos stamped with an older one belong to deleted Services. */
  private generation = 0;

  /** Every meshed Service's MeshService; reassembled only when something it reads changed. */
  assembleAll(
    meshed: readonly MeshedService[], context: AssemblyContext, vips: ReadonlyMap<string, string>, problems: Problem[],
  ): MeshService[] {
    this.generation++;
    this.withProblems.clear();
    const services: MeshService[] = [];
    for (const item of meshed) {
      const memo = this.assembleOne(item, context, vips);
      services.push(memo.value.service);
      if (memo.value.problems.length > 0) append(problems, memo.value.problems);
    }
    // Forget what deleted Services used, so it can be collected.
    dropStale(this.assembled, this.generation);
    return services;
  }

  /**
   * `services` (the last result, for the same meshed Services) with the Services of `scope`
   * assembled again; the rest are the same objects.
   */
  reassemble(
    services: readonly MeshService[], meshed: { readonly list: readonly MeshedService[]; readonly index: ReadonlyMap<string, number> },
    scope: ReadonlySet<string>, context: AssemblyContext, vips: ReadonlyMap<string, string>,
  ): readonly MeshService[] {
    if (scope.size === 0) return services;
    const result = [...services];
    for (const key of scope) {
      const at = meshed.index.get(key);
      if (at !== undefined) result[at] = this.assembleOne(meshed.list[at]!, context, vips).value.service;
    }
    return result;
  }

  /** The problems of the Services last assembled. */
  problems(): Problem[] {
    const problems: Problem[] = [];
    for (const list of this.withProblems.values()) append(problems, list);
    return problems;
  }

  private assembleOne({ service, ports }: MeshedService, context: AssemblyContext, vips: ReadonlyMap<string, string>): AssemblyMemo {
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
    if (memo.value.problems.length > 0) this.withProblems.set(service.key, memo.value.problems);
    else this.withProblems.delete(service.key);
    return memo;
  }
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
