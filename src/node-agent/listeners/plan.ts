/**
 * Which listeners a MeshConfig asks for (pure). One listener per (address, port, protocol):
 * local mode binds each Service's VIP at the Service's own ports; Kubernetes mode binds the
 * agent's listen address at the allocated listener port. Ports with nothing to bind (no VIP in
 * local mode, listener port 0 in Kubernetes mode) have no listener; the compiler reported why.
 */
import { isIPv6 } from 'node:net';
import { append } from '../../model/append.js';
import { fitted } from '../../model/fitted.js';
import type { ServiceDiff } from '../../routing/config-diff.js';
import { portKey, type MeshConfig, type MeshService, type PortProtocol } from '../../routing/mesh-config.js';

export type ListenerMode = 'local' | 'kubernetes';

/** What the listener speaks: decides which proxy handles its traffic. */
export type ListenerKind = 'http' | 'h2c' | 'tcp' | 'udp';

export interface ListenerSpec {
  /** `address:port/PROTOCOL` (IPv6 in brackets): unique per bound socket. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly kind: ListenerKind;
  /** The MeshRuntime port it serves (`portKey`). */
  readonly portKey: string;
  /** `namespace/name` of the Service, for problems. */
  readonly service: { readonly namespace: string; readonly name: string };
}

export interface ListenerPlan {
  readonly listeners: readonly ListenerSpec[];
  /** Specs that asked for an address:port another spec already holds (first one wins). */
  readonly conflicts: readonly { readonly spec: ListenerSpec; readonly heldBy: ListenerSpec }[];
}

/** A change of the plan: the listener specs of the Services that changed, as they were and as they are. */
export interface PlanChange {
  readonly before: readonly ListenerSpec[];
  readonly after: readonly ListenerSpec[];
}

export function planListeners(config: MeshConfig, mode: ListenerMode, listenAddress: string): ListenerPlan {
  const byId = new Map<string, ListenerSpec>();
  const conflicts: { spec: ListenerSpec; heldBy: ListenerSpec }[] = [];
  for (const service of config.services) {
    for (const spec of serviceSpecs(service, mode, listenAddress)) {
      const holder = byId.get(spec.id);
      if (holder) conflicts.push({ spec, heldBy: holder });
      else byId.set(spec.id, spec);
    }
  }
  return { listeners: [...byId.values()], conflicts };
}

/** The specs of the Services a config change touched (see ListenerManager.update). */
export function planChange(diff: ServiceDiff, mode: ListenerMode, listenAddress: string): PlanChange {
  const before: ListenerSpec[] = [];
  const after: ListenerSpec[] = [];
  for (const service of diff.removed) append(before, serviceSpecs(service, mode, listenAddress));
  for (const change of diff.changed) {
    append(before, serviceSpecs(change.before, mode, listenAddress));
    append(after, serviceSpecs(change.after, mode, listenAddress));
  }
  for (const service of diff.added) append(after, serviceSpecs(service, mode, listenAddress));
  return { before, after };
}

/**
 * A Service's specs, remembered per MeshService: the compiler hands back an unchanged Service as
 * the same object, so at 10,000 Services a change plans the changed ones only, and the listener
 * manager sees the very spec it runs (see sameListener).
 */
const planned = new WeakMap<MeshService, { readonly mode: ListenerMode; readonly listenAddress: string; readonly specs: readonly ListenerSpec[] }>();

function serviceSpecs(service: MeshService, mode: ListenerMode, listenAddress: string): readonly ListenerSpec[] {
  const memo = planned.get(service);
  if (memo && memo.mode === mode && memo.listenAddress === listenAddress) return memo.specs;
  const specs: ListenerSpec[] = [];
  for (const port of service.ports) {
    const address = mode === 'local' ? service.vip : listenAddress;
    const number = mode === 'local' ? port.port : port.listenerPort;
    if (!address || number === 0) continue;
    specs.push({
      id: listenerId(address, number, port.protocol),
      address,
      port: number,
      protocol: port.protocol,
      kind: port.protocol === 'UDP' ? 'udp' : port.trafficType === 'http' ? port.scheme : 'tcp',
      portKey: portKey(service.namespace, service.name, port.port, port.protocol),
      service: { namespace: service.namespace, name: service.name },
    });
  }
  const kept = fitted(specs);
  planned.set(service, { mode, listenAddress, specs: kept });
  return kept;
}

export function listenerId(address: string, port: number, protocol: PortProtocol): string {
  return `${isIPv6(address) ? `[${address}]` : address}:${port}/${protocol}`;
}

/** A running listener can stay as it is when it would be built the same way again. */
export function sameListener(a: ListenerSpec, b: ListenerSpec): boolean {
  return a === b || a.id === b.id && a.kind === b.kind && a.portKey === b.portKey;
}
