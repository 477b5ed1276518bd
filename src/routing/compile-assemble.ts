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
  /** Counts assemblies: memos stamped with an older one belong to deleted Services. */
  private generation = 0;

  /** Every meshed Service's MeshService; reassembled only when something it reads changed. */
  assembleAll(
    meshed: readonly MeshedService[], context: AssemblyContext, vips: ReadonlyMap<string, string>, problems: Problem[],
  ): MeshService[] {
    this.generation++;
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
    // Forget what deleted Services used, so it can be collected.
    dropStale(this.assembled, this.generation);
    return services;
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
