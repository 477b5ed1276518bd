/**
 * The PortRuntimes of one MeshRuntime, each Service's built on first use: at 10,000 Services most
 * listeners may never see a connection, and a Service's runtime (its pools, pooled endpoints and
 * their carried health) is most of what the agent holds per Service. `get` builds the Service of
 * the port asked for (all of its ports at once); `has`, `size` and `keys` build nothing.
 */
import type { MeshService } from '../../routing/mesh-config.js';
import type { Carried } from './carried-state.js';
import type { PortRuntime, RuntimePorts } from './types.js';

/** A Service's runtime objects and the carried entries their build obtained. */
export interface BuiltService {
  readonly ports: ReadonlyMap<string, PortRuntime>;
  readonly carried: readonly Carried<unknown>[];
}

/** One Service of a runtime: null `built` until its first use. Shared by generations that keep it. */
export interface ServiceRecord {
  readonly service: MeshService;
  built: BuiltService | null;
}

/** Records by port key (a Map, or the layered map of build.ts and the file provider). */
export interface RecordsByPort {
  readonly size: number;
  has(key: string): boolean;
  get(key: string): ServiceRecord | undefined;
  keys(): IterableIterator<string>;
}

export class LazyPorts implements RuntimePorts {
  readonly #records: RecordsByPort;
  readonly #build: (record: ServiceRecord) => BuiltService;

  constructor(records: RecordsByPort, build: (record: ServiceRecord) => BuiltService) {
    this.#records = records;
    this.#build = build;
  }

  get size(): number {
    return this.#records.size;
  }

  has(key: string): boolean {
    return this.#records.has(key);
  }

  keys(): IterableIterator<string> {
    return this.#records.keys();
  }

  get(key: string): PortRuntime | undefined {
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    record.built ??= this.#build(record);
    return record.built.ports.get(key);
  }
}
