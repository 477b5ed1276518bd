/**
 * prom-client's metric classes, loaded without its index. `import 'prom-client'` also loads the
 * Summary (tdigest, bintrees), the Pushgateway (node:https, node:zlib), the cluster aggregator
 * (node:cluster, node:child_process), every default collector and @opentelemetry/api: about a
 * hundred modules that the agent never uses and that every agent would carry in memory. These are
 * prom-client's own classes (the same modules its index re-exports), typed by its index.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = load('prom-client/lib/counter') as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = load('prom-client/lib/gauge') as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram = load('prom-client/lib/histogram') as typeof Prom.Histogram;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
