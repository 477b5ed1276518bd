/**
 * The HTTP proxies of the agent's listeners. The upstream pool is shared by every listener and
 * survives reloads (connections to an endpoint are reused whichever Service port routed there).
 */
import {
  MirrorSender, UpstreamPool, createH2cHandler, createHttp1Handler, type ConnectionHandler, type HttpLimits, type PathPolicy,
} from '../http/index.js';
import type { Dialer } from '../runtime/dialer.js';
import type { Telemetry } from '../telemetry/types.js';
import type { CurrentPort } from './connection-handler.js';

export interface HttpHandlers {
  readonly create: (kind: 'http' | 'h2c', current: CurrentPort) => ConnectionHandler;
  /** Closes the pooled upstream connections (at agent stop, after the listeners drained). */
  close(): void;
}

export interface HttpSettings {
  readonly telemetry: Telemetry;
  readonly limits: HttpLimits;
  readonly paths: PathPolicy;
  readonly dialer: Dialer;
}

export function createHttpHandlerFactory(settings: HttpSettings): HttpHandlers {
  const upstreams = new UpstreamPool();
  const mirrors = new MirrorSender(upstreams, settings.telemetry, settings.dialer, settings.limits);
  return {
    create: (kind, current) => {
      const context = { current, telemetry: settings.telemetry, limits: settings.limits, paths: settings.paths, upstreams, mirrors, dialer: settings.dialer };
      return kind === 'h2c' ? createH2cHandler(context) : createHttp1Handler(context);
    },
    close: () => upstreams.close(),
  };
}
