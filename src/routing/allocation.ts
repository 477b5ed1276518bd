/**
 * Listener ports and virtual IPs, both stable: a key keeps what the previous allocation gave it
 * for as long as it exists (and the value is still in range). New keys are placed in sorted key
 * order, so the result does not depend on the order objects arrived in: at the lowest free value
 * (listener ports, whose allocation is stored in the cluster), or at a slot derived from the key's
 * hash (virtual IPs, which local mode stores nowhere: the same Service gets the same VIP after a
 * restart, whatever was added or removed meanwhile, unless its slot was taken by a collision).
 */
import { ipv4Value } from './ip-order.js';
import type { PortRange } from './compile-options.js';

export interface AllocationRequest {
  /** In output order (the allocation record is written in this order). */
  readonly keys: readonly string[];
  readonly min: number;
  readonly max: number;
  readonly previous: Readonly<Record<string, number>>;
  /** Where a new key starts looking for a free value; `lowest` by default. */
  readonly placement?: 'lowest' | 'hashed';
}

/** Key → value; keys missing from the map got nothing (the range is full). */
export function allocate(request: AllocationRequest): Map<string, number> {
  const { keys, min, max, previous } = request;
  const given = new Map<string, number>();
  const taken = new Set<number>();
  const fresh: string[] = [];
  for (const key of keys) {
    const value = Object.hasOwn(previous, key) ? previous[key] : undefined;
    if (value !== undefined && Number.isInteger(value) && value >= min && value <= max && !taken.has(value)) {
      given.set(key, value);
      taken.add(value);
    } else {
      fresh.push(key);
    }
  }
  fresh.sort();
  if (request.placement === 'hashed') placeHashed(fresh, min, max, taken, given);
  else placeLowest(fresh, min, max, taken, given);
  const ordered = new Map<string, number>();
  for (const key of keys) {
    const value = given.get(key);
    if (value !== undefined) ordered.set(key, value);
  }
  return ordered;
}

function placeLowest(keys: readonly string[], min: number, max: number, taken: Set<number>, given: Map<string, number>): void {
  let next = min;
  for (const key of keys) {
    while (next <= max && taken.has(next)) next++;
    if (next > max) return;
    given.set(key, next);
    taken.add(next);
  }
}

/** Each key at its hash slot, or the next free one after it (wrapping round the range). */
function placeHashed(keys: readonly string[], min: number, max: number, taken: Set<number>, given: Map<string, number>): void {
  const size = max - min + 1;
  for (const key of keys) {
    if (taken.size >= size) return;
    let value = min + (fnv1a(key) % size);
    while (taken.has(value)) value = value === max ? min : value + 1;
    given.set(key, value);
    taken.add(value);
  }
}

/** 32-bit FNV-1a: cheap, well spread, and the same on every platform and Node version. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function validPortRange(range: PortRange): boolean {
  return Number.isInteger(range.min) && Number.isInteger(range.max) && range.min >= 1 && range.max <= 65535 && range.min <= range.max;
}

export interface Ipv4Block {
  /** First and last address that may be handed out, as unsigned 32-bit numbers. */
  readonly first: number;
  readonly last: number;
}

/**
 * An IPv4 CIDR such as `127.77.0.0/16`, without its network and broadcast addresses
 * (a /31 or /32 has neither). Null when `cidr` is not a valid IPv4 CIDR.
 */
export function parseIpv4Cidr(cidr: string): Ipv4Block | null {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) return null;
  const address = ipv4Value(match[1]!);
  const prefix = Number(match[2]);
  if (address < 0 || prefix > 32) return null;
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  return size <= 2 ? { first: network, last: network + size - 1 } : { first: network + 1, last: network + size - 2 };
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
