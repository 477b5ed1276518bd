/**
 * Compile benchmark: a synthetic cluster of 10,000 meshed Services (20 namespaces), 100,000
 * endpoints in EndpointSlices (two slices of 5 per Service) and 1,000 TrafficSplits (each over
 * two other Services, with TrafficTargets for their ServiceAccounts). Prints the time of a full
 * compile, the heap used after it (after gc), and the time of an incremental recompile after
 * one EndpointSlice was replaced, everything else the same references.
 *
 *   node --expose-gc .build/<dir>/bench/compile.js
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Compiler } from '../src/routing/compile.js';
import type { CompileOptions } from '../src/routing/compile-options.js';
import type { RawObject } from '../src/model/snapshot.js';

const SERVICES = 10_000;
const ENDPOINTS_PER_SERVICE = 10;
const SLICES_PER_SERVICE = 2;
const SPLITS = 1_000;
const NAMESPACES = 20;
const INCREMENTAL_RUNS = 5;

function namespaceOf(i: number): string {
  return `ns-${i % NAMESPACES}`;
}

function service(i: number): RawObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: namespaceOf(i), annotations: { 'plexus.dev/retry-attempts': '2', 'plexus.dev/timeout': '5s' } },
    spec: { clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

function slice(i: number, part: number, generation = 0): RawObject {
  const perSlice = ENDPOINTS_PER_SERVICE / SLICES_PER_SERVICE;
  const endpoints = Array.from({ length: perSlice }, (_, e) => {
    const n = i * ENDPOINTS_PER_SERVICE + part * perSlice + e;
    return {
      addresses: [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`],
      conditions: { ready: (n + generation) % 17 !== 0 },
      nodeName: `node-${n % 50}`,
      targetRef: { kind: 'Pod', name: `svc-${i}-${part}-${e}`, namespace: namespaceOf(i) },
    };
  });
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-${part}`, namespace: namespaceOf(i), labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints,
  };
}

function split(i: number): RawObject {
  // Root svc-i; backends two Services of the same namespace further along.
  return {
    apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit',
    metadata: { name: `split-${i}`, namespace: namespaceOf(i) },
    spec: { service: `svc-${i}`, backends: [{ service: `svc-${i + NAMESPACES}`, weight: 90 }, { service: `svc-${i + 2 * NAMESPACES}`, weight: 10 }] },
  };
}

function trafficTarget(ns: string): RawObject {
  return {
    apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget',
    metadata: { name: 'allow-default', namespace: ns },
    spec: { destination: { kind: 'ServiceAccount', name: 'default', namespace: ns }, rules: [{ kind: 'TCPRoute', name: 'all-ports' }], sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }] },
  };
}

function tcpRoute(ns: string): RawObject {
  return { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: { name: 'all-ports', namespace: ns }, spec: { matches: { ports: [] } } };
}

function buildCluster(): RawObject[] {
  const objects: RawObject[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, annotations: { 'plexus.dev/mesh': 'true' } } });
    objects.push(trafficTarget(`ns-${n}`), tcpRoute(`ns-${n}`));
  }
  for (let i = 0; i < SERVICES; i++) {
    objects.push(service(i));
    for (let part = 0; part < SLICES_PER_SERVICE; part++) objects.push(slice(i, part));
  }
  for (let i = 0; i < SPLITS; i++) objects.push(split(i * 5));
  return objects;
}

/** CPU time of this process since `since` (user + system): less sensitive to a busy machine. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/**
 * A fixed reference workload (a million Map insertions with string keys), timed in the same run:
 * on a shared, busy machine every figure grows with it, so the ratios stay comparable.
 */
function referenceMs(): number {
  const start = performance.now();
  const map = new Map<string, number>();
  for (let i = 0; i < 1_000_000; i++) map.set(`key-${i}`, i);
  return performance.now() - start;
}

function heapMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

function main(): void {
  if (!globalThis.gc) console.log('(run with --expose-gc for accurate heap figures)');
  const reference = referenceMs();
  const baseHeap = heapMb();
  const objects = buildCluster();
  const inputHeap = heapMb();
  const options: CompileOptions = { nodeName: 'node-1', meshDomain: 'plexus', listenerPorts: { min: 10000, max: 40000 } };
  const compiler = new Compiler();

  const start = performance.now();
  const startCpu = process.cpuUsage();
  const config = compiler.compile({ objects }, options);
  const fullMs = performance.now() - start;
  const fullCpuMs = cpuMs(startCpu);
  const heapAfter = heapMb();
  const endpoints = config.services.reduce((sum, s) => sum + s.ports.reduce((n, p) => n + (p.destination.kind === 'backends' ? p.destination.backends.reduce((m, b) => m + b.endpoints.length, 0) : 0), 0), 0);

  const times: number[] = [];
  const cpuTimes: number[] = [];
  let previous = config;
  for (let run = 1; run <= INCREMENTAL_RUNS; run++) {
    const at = objects.findIndex((o) => (o.metadata as { name: string }).name === `svc-${run * 1000}-0` && o.kind === 'EndpointSlice');
    objects[at] = slice(run * 1000, 0, run);
    const t = performance.now();
    const cpu = process.cpuUsage();
    previous = compiler.compile({ objects }, { ...options, previous: previous.allocation });
    times.push(performance.now() - t);
    cpuTimes.push(cpuMs(cpu));
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);

  console.log(`objects: ${objects.length} (services ${SERVICES}, endpoints ${SERVICES * ENDPOINTS_PER_SERVICE} in ${SERVICES * SLICES_PER_SERVICE} EndpointSlices, TrafficSplits ${SPLITS})`);
  console.log(`compiled: ${config.services.length} meshed services, ${endpoints} endpoint references (split backends included), ${config.problems.length} problems`);
  console.log(`full compile:        ${fullMs.toFixed(0)} ms wall, ${fullCpuMs.toFixed(0)} ms CPU (goal < 1000 ms)`);
  console.log(`heap used after gc:  ${heapAfter.toFixed(0)} MB total; input objects ${(inputHeap - baseHeap).toFixed(0)} MB, compiler + config ${(heapAfter - inputHeap).toFixed(0)} MB (goal < 300 MB)`);
  const median = (list: number[]) => list[Math.floor(list.length / 2)]!.toFixed(1);
  console.log(`incremental compile: median ${median(times)} ms wall, ${median(cpuTimes)} ms CPU; max ${times[times.length - 1]!.toFixed(1)} ms wall over ${INCREMENTAL_RUNS} one-EndpointSlice changes (goal well under 100 ms)`);
  console.log(`reference workload:  ${reference.toFixed(0)} ms (1M Map.set); full compile = ${(fullMs / reference).toFixed(2)}x, incremental = ${(times[Math.floor(times.length / 2)]! / reference).toFixed(3)}x of it`);
  console.log(`load average while measuring: ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores (wall times grow with it)`);
}

main();
