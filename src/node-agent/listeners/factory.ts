/** Builds the listener for a spec: the right proxy for its kind, behind a stream or datagram socket. */
import { createTcpHandler } from '../tcp/tcp-proxy.js';
import type { Dialer } from '../runtime/dialer.js';
import type { Telemetry } from '../telemetry/types.js';
import { UdpRelay } from '../udp/udp-relay.js';
import type { ConnectionHandler, CurrentPort } from './connection-handler.js';
import { DatagramListener, StreamListener } from './listener.js';
import type { ListenerFactory } from './listener-manager.js';
import type { ListenerSpec } from './plan.js';

/** Creates the HTTP/1.1 or h2c proxy of a listener (supplied by the agent, which owns the pools). */
export type HttpHandlerFactory = (kind: 'http' | 'h2c', current: CurrentPort) => ConnectionHandler;

export interface ListenerSettings {
  readonly telemetry: Telemetry;
  readonly http: HttpHandlerFactory;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  /** How TCP connections reach endpoints (direct, or secure mode's tunnel). */
  readonly dialer: Dialer;
  readonly udpIdleTimeoutMs: number;
  readonly udpMaxFlows: number;
  /** Errors of a bound listener (e.g. EMFILE while accepting): reported, never fatal. */
  readonly onError: (spec: ListenerSpec, error: Error) => void;
}

export function listenerFactory(settings: ListenerSettings): ListenerFactory {
  return (spec, current) => {
    if (spec.kind === 'udp') {
      return new DatagramListener(spec, new UdpRelay(spec.address, spec.port, {
        current, telemetry: settings.telemetry, idleTimeoutMs: settings.udpIdleTimeoutMs, maxFlows: settings.udpMaxFlows,
      }));
    }
    const handler = spec.kind === 'tcp'
      ? createTcpHandler({ current, telemetry: settings.telemetry, connectTimeoutMs: settings.connectTimeoutMs, dialer: settings.dialer })
      : settings.http(spec.kind, current);
    return new StreamListener(spec, handler, settings.maxConnections, (error) => settings.onError(spec, error));
  };
}
