/**
 * A child process of the scale suite: compiles the synthetic cluster of N Services the way a
 * local-mode agent does, then one EndpointSlice change, and prints the figures as one JSON line.
 *
 *   node --expose-gc compile-probe.js N
 */
import { Compiler } from '../../src/routing/compile.js';
import { formatProblem } from '../../src/model/problem.js';
import { type CompileOptions } from '../../src/routing/compile-options.js';
import { type RawObject } from '../../src/model/snapshot.js';
import { namespaceObjects, serviceObjects, splitObjects } from './scale-cluster.js';

export interface CompileProbeResult {
  readonly services: number;
  readonly objects: number;
  readonly meshedServices: number;
  readonly problems: number;
  /** The first problem, to show what kind they are. */
  readonly firstProblem: string | null;
  readonly fullMs: number;
  readonly fullCpuMs: number;
  /** Heap held by the compiler and its config, after gc (input objects excluded). */
  readonly heapMb: number;
  readonly incrementalMs: number;
}

function heapMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

function main(): void {
  const services = Number(process.argv[2]);
  if (!Number.isInteger(services) || services <= 0) throw new Error('usage: compile-probe N');
  if (!globalThis.gc) throw new Error('run with node --expose-gc');
  const objects: RawObject[] = [...namespaceObjects(), ...splitObjects(services)];
  for (let i = 0; i < services; i++) objects.push(...serviceObjects(i));
  const inputHeap = heapMb();
  const options: CompileOptions = {
    nodeName: 'bench', meshDomain: 'plexus', listenerPorts: null, vipCidr: '127.100.0.0/16', deriveEndpointsFromPods: true,
  };
  const compiler = new Compiler();
  const began = performance.now();
  const cpu = process.cpuUsage();
  const config = compiler.compile({ objects }, options);
  const fullMs = performance.now() - began;
  const used = process.cpuUsage(cpu);
  const heap = heapMb() - inputHeap;

  // One EndpointSlice replaced, every other object the same reference (as the file provider does).
  const changed = serviceObjects(0, 1)[1] as RawObject;
  const at = objects.findIndex((o) => o.kind === 'EndpointSlice' && (o.metadata as { name: string }).name === 'svc-0-0');
  objects[at] = changed;
  const again = performance.now();
  compiler.compile({ objects }, { ...options, previous: config.allocation });
  const result: CompileProbeResult = {
    services, objects: objects.length, meshedServices: config.services.length, problems: config.problems.length,
    firstProblem: config.problems[0] ? formatProblem(config.problems[0]) : null,
    fullMs, fullCpuMs: (used.user + used.system) / 1000, heapMb: heap, incrementalMs: performance.now() - again,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
