/**
 * Access log: one pino JSON line per request (`msg: "request"`) and per TCP connection / UDP flow
 * (`msg: "connection"`), carrying the record's fields. Sampling keeps the log affordable under
 * load; the level (info) and the destination are the CLI logger's.
 */
import type { Logger } from 'pino';
import type { ConnectionRecord, RequestRecord } from './types.js';

export interface AccessLogOptions {
  readonly enabled: boolean;
  /** Fraction of records logged, 0..1. */
  readonly sampleRate: number;
}

export class AccessLog {
  readonly #logger: Logger;
  readonly #sampleRate: number;
  readonly #random: () => number;

  constructor(logger: Logger, options: AccessLogOptions, random: () => number = Math.random) {
    this.#logger = logger;
    this.#sampleRate = options.enabled ? Math.min(1, Math.max(0, options.sampleRate)) : 0;
    this.#random = random;
  }

  request(record: RequestRecord): void {
    if (this.#sampled()) this.#logger.info(record, 'request');
  }

  connection(record: ConnectionRecord): void {
    if (this.#sampled()) this.#logger.info(record, 'connection');
  }

  #sampled(): boolean {
    if (this.#sampleRate === 0 || !this.#logger.isLevelEnabled('info')) return false;
    return this.#sampleRate >= 1 || this.#random() < this.#sampleRate;
  }
}
