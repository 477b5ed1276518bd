/**
 * The compiler's allocation stage: a listener port per meshed Service port (Kubernetes mode) and
 * a virtual IP per meshed Service (local mode), keeping what the previous allocation gave (a port
 * or VIP never moves while its Service stays). Each is recomputed only when its inputs changed.
 */
import { problem, type Problem } from '../model/problem.js';
import { allocate, numberToIpv4, parseIpv4Cidr, validPortRange } from './allocation.js';
import type { CompileOptions } from './compile-options.js';
import type { Memo } from './compile-memo.js';
import { ipv4Value } from './ip-order.js';
import type { ServiceInfo } from './kube/types.js';
import type { MeshedService } from './mesh-ports.js';

export interface Allocated<T> {
  /** Also the record put in the MeshConfig, so feeding it back as `previous` is recognised. */
  readonly record: Readonly<Record<string, T>>;
  readonly map: ReadonlyMap<string, T>;
  readonly problems: readonly Problem[];
}

const EMPTY_RECORD: Readonly<Record<string, never>> = {};
const NO_VIPS: Allocated<string> = { record: EMPTY_RECORD, map: new Map(), problems: [] };
const NO_PORTS: Allocated<number> = { record: EMPTY_RECORD, map: new Map(), problems: [] };

export class Allocator {
  private portsMemo: Memo<Allocated<number>> | null = null;
  private vipsMemo: Memo<Allocated<string>> | null = null;

  /** Listener ports (Kubernetes mode); the previous result is reused while the keys, range and previous allocation stay. */
  ports(meshed: readonly MeshedService[], options: CompileOptions): Allocated<number> {
    const range = options.listenerPorts;
    if (range === null) return NO_PORTS;
    const previous = options.previous?.ports ?? EMPTY_RECORD;
    const inputs = [range.min, range.max, previous, meshed];
    if (this.portsMemo && sameAllocationInputs(this.portsMemo, inputs, 2)) return this.portsMemo.value;
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
    this.portsMemo = { inputs, value };
    return value;
  }

  /** Virtual IPs (local mode); the previous result is reused while the keys, CIDR and previous allocation stay. */
  vips(meshed: readonly MeshedService[], options: CompileOptions): Allocated<string> {
    const cidr = options.vipCidr;
    if (cidr === undefined) return NO_VIPS;
    const previous = options.previous?.vips ?? EMPTY_RECORD;
    const inputs = [cidr, previous, meshed];
    if (this.vipsMemo && sameAllocationInputs(this.vipsMemo, inputs, 1)) return this.vipsMemo.value;
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
    this.vipsMemo = { inputs, value };
    return value;
  }
}

/** Problems with compile options name the option (`Option vip-cidr: …`). */
function optionRef(name: string) {
  return { kind: 'Option', namespace: '', name };
}

function serviceRef(service: ServiceInfo) {
  return { kind: 'Service', namespace: service.id.namespace, name: service.id.name };
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
