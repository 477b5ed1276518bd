/**
 * The agent-wide connections to endpoints, keyed by endpoint `ip:port`, so they survive config
 * reloads: pooled keep-alive HTTP/1.1 connections and one HTTP/2 session per h2c endpoint.
 */
import { Http1ConnectionPool, type Http1PoolOptions } from './http1/connection-pool.js';
import { H2SessionPool, type H2SessionPoolOptions } from './h2c/session-pool.js';

export interface UpstreamPoolOptions {
  readonly http1?: Partial<Http1PoolOptions>;
  readonly h2?: Partial<H2SessionPoolOptions>;
}

export class UpstreamPool {
  readonly http1: Http1ConnectionPool;
  readonly h2: H2SessionPool;

  constructor(options: UpstreamPoolOptions = {}) {
    this.http1 = new Http1ConnectionPool(options.http1);
    this.h2 = new H2SessionPool(options.h2);
  }

  /** Closes every pooled and lent connection. */
  close(): void {
    this.http1.close();
    this.h2.close();
  }
}
