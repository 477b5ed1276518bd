/**
 * The HTTP proxies of the agent's listeners. The upstream pool is shared by every listener and
 * survives reloads (connections to an endpoint are reused whichever Service port routed there).
 */
import type { ConnectionHandler } from '../http/context.js';
import { createHttp1Handler } from '../http/http1-handler.js';
import type { HttpLimits } from '../http/limits.js';
import { UpstreamPool } from '../http/upstream-pool.js';
import type { Telemetry } from '../telemetry/types.js';
import type { CurrentPort } from './connection-handler.js';

export interface HttpHandlers {
  readonly create: (kind: 'http' | 'h2c', current: CurrentPort) => ConnectionHandler;
  /** Closes the pooled upstream connections (at agent stop, after the listeners drained). */
  close(): void;
}

export function createHttpHandlerFactory(settings: { readonly telemetry: Telemetry; readonly limits: HttpLimits }): HttpHandlers {
  const upstreams = new UpstreamPool();
  return {
    create: (kind, current) => {
      const context = { current, telemetry: settings.telemetry, limits: settings.limits, upstreams };
      if (kind === 'h2c') throw new Error('TEMPORARY h2c pending');
      return createHttp1Handler(context);
    },
    close: () => upstreams.close(),
  };
}
