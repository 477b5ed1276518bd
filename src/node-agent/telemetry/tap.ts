/**
 * Live request taps (`GET /tap`, docs/cli.md#plexus-tap). The telemetry sink hands every request
 * record to the hub only while someone watches (one boolean test otherwise). Each subscriber has
 * its own bounds, so a slow or greedy reader never slows the data plane:
 *
 * - sampling: at most `ratePerSecond` events a second; above that, events are kept at random
 *   with the share the last second allowed, and the rest is counted as `sampled`;
 * - a bounded queue, written out on a timer (never on the request's own call stack); while the
 *   reader does not drain its socket nothing more is written, and what does not fit is counted
 *   as `dropped`.
 *
 * An event carries no header value and no body: method, path (no query), status, latency,
 * source identity and address, destination, backend and endpoint.
 */
import { FAILED_OUTCOMES, requestOutcome } from './outcome.js';
import type { RequestRecord } from './types.js';

export interface TapFilter {
  /** Destination namespace, or null for any. */
  readonly namespace: string | null;
  /** Destination Service name (in `namespace`), or null for any. */
  readonly service: string | null;
  /** Upper-case method, or null for any. */
  readonly method: string | null;
  /** Caller `namespace/serviceAccount` or `unknown`, or null for any. */
  readonly from: string | null;
}

/** What a subscriber writes to: an HTTP response in the admin server. */
export interface TapSink {
  /** False when the reader's buffer is full (wait for `onDrain`). */
  write(text: string): boolean;
  onDrain(resume: () => void): void;
}

export const TAP_DEFAULT_RATE = 100;
export const TAP_MAX_RATE = 1000;
export const TAP_MAX_SUBSCRIBERS = 16;
const QUEUE_LIMIT = 1000;
const FLUSH_MS = 100;
/** A line at least this often, so readers and proxies in between see the stream alive. */
const HEARTBEAT_MS = 5000;

export function matches(filter: TapFilter, record: RequestRecord): boolean {
  if (filter.namespace !== null && filter.namespace !== record.destinationNamespace) return false;
  if (filter.service !== null && filter.service !== record.destinationService) return false;
  if (filter.method !== null && filter.method !== record.method) return false;
  return filter.from === null || filter.from === (record.sourceIdentity ?? 'unknown');
}

/** The JSON line of one request. */
export function tapEvent(record: RequestRecord): string {
  const outcome = requestOutcome(record.status, record.reason);
  return `${JSON.stringify({
    type: 'request',
    protocol: record.protocol,
    source: record.sourceIdentity ?? 'unknown',
    sourceIp: record.sourceIp,
    destination: `${record.destinationNamespace}/${record.destinationService}:${record.destinationPort}`,
    backend: record.backend,
    endpoint: record.endpoint,
    method: record.method,
    path: record.path,
    status: record.status,
    outcome,
    failed: FAILED_OUTCOMES.includes(outcome),
    latencyMs: Math.round(record.durationSeconds * 1e6) / 1000,
    reason: record.reason,
  })}\n`;
}

export class TapSubscriber {
  readonly #queue: RequestRecord[] = [];
  #blocked = false;
  #sampled = 0;
  #dropped = 0;
  #secondStart = 0;
  #seenThisSecond = 0;
  #keptThisSecond = 0;
  /** Share kept this second, from the rate seen the second before. */
  #keep = 1;
  #lastWrite = 0;

  constructor(readonly filter: TapFilter, readonly ratePerSecond: number, readonly sink: TapSink, private readonly random: () => number = Math.random) {
    sink.onDrain(() => {
      this.#blocked = false;
    });
  }

  offer(record: RequestRecord, now: number): void {
    if (now - this.#secondStart >= 1000) {
      this.#keep = this.#seenThisSecond > this.ratePerSecond ? this.ratePerSecond / this.#seenThisSecond : 1;
      this.#secondStart = now;
      this.#seenThisSecond = 0;
      this.#keptThisSecond = 0;
    }
    this.#seenThisSecond++;
    if (this.#keptThisSecond >= this.ratePerSecond || (this.#keep < 1 && this.random() >= this.#keep)) {
      this.#sampled++;
      return;
    }
    this.#keptThisSecond++;
    if (this.#queue.length >= QUEUE_LIMIT) this.#dropped++;
    else this.#queue.push(record);
  }

  /** Writes what is queued while the reader keeps up; reports what sampling and bounds left out. */
  flush(now: number): void {
    if (this.#blocked) return;
    let text = '';
    if (this.#sampled > 0 || this.#dropped > 0) {
      text += `${JSON.stringify({ type: 'skipped', sampled: this.#sampled, dropped: this.#dropped })}\n`;
      this.#sampled = 0;
      this.#dropped = 0;
    }
    for (const record of this.#queue) text += tapEvent(record);
    this.#queue.length = 0;
    if (text === '' && now - this.#lastWrite >= HEARTBEAT_MS) text = `${JSON.stringify({ type: 'heartbeat' })}\n`;
    if (text === '') return;
    this.#lastWrite = now;
    if (!this.sink.write(text)) this.#blocked = true;
  }
}

export class TapHub {
  /** Read on every request by the telemetry sink: true while anyone watches. */
  watching = false;
  readonly #subscribers = new Set<TapSubscriber>();
  #timer: NodeJS.Timeout | null = null;

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** No more subscribers are taken (TAP_MAX_SUBSCRIBERS). */
  get full(): boolean {
    return this.#subscribers.size >= TAP_MAX_SUBSCRIBERS;
  }

  /** Check `full` first: a full hub refuses (throws). */
  subscribe(filter: TapFilter, ratePerSecond: number, sink: TapSink): TapSubscriber {
    if (this.full) throw new Error(`at most ${TAP_MAX_SUBSCRIBERS} taps at once`);
    const subscriber = new TapSubscriber(filter, Math.min(TAP_MAX_RATE, Math.max(1, ratePerSecond)), sink);
    this.#subscribers.add(subscriber);
    this.watching = true;
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#flush(), FLUSH_MS);
      this.#timer.unref();
    }
    subscriber.flush(Date.now());
    return subscriber;
  }

  unsubscribe(subscriber: TapSubscriber): void {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size > 0) return;
    this.watching = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  publish(record: RequestRecord): void {
    const now = Date.now();
    for (const subscriber of this.#subscribers) if (matches(subscriber.filter, record)) subscriber.offer(record, now);
  }

  #flush(): void {
    const now = Date.now();
    for (const subscriber of this.#subscribers) subscriber.flush(now);
  }
}
