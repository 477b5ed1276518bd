/**
 * A Service's routing as the dashboard shows it: per port, the TrafficSplit weights of its
 * default destination and of each route rule, read from an agent's /config answer. Pure.
 */
export interface BackendWeight {
  readonly service: string;
  readonly weight: number;
}

export interface DestinationView {
  /** `namespace/name` of the TrafficSplit, null without one. */
  readonly split: string | null;
  readonly backends: readonly BackendWeight[];
  /** Set when every request is answered with an error (e.g. all weights zero). */
  readonly rejected: string | null;
}

export interface PortRoutes {
  readonly port: number;
  readonly trafficType: string;
  readonly rules: ReadonlyArray<{ readonly matches: readonly string[]; readonly destination: DestinationView }>;
  readonly destination: DestinationView;
}

interface RawDestination {
  kind?: unknown;
  split?: unknown;
  backends?: Array<{ service?: unknown; weight?: unknown }>;
  reason?: unknown;
}

interface RawPort {
  port?: unknown;
  trafficType?: unknown;
  destination?: RawDestination;
  rules?: Array<{ matches?: Array<{ name?: unknown }>; destination?: RawDestination }>;
}

function destinationView(raw: RawDestination | undefined): DestinationView {
  const split = typeof raw?.split === 'string' ? raw.split : null;
  if (raw?.kind === 'reject') return { split, backends: [], rejected: typeof raw.reason === 'string' ? raw.reason : 'rejected' };
  const backends = (raw?.backends ?? []).map((b) => ({ service: String(b.service ?? ''), weight: Number(b.weight ?? 0) }));
  return { split, backends, rejected: null };
}

/** The routes of `service` (`namespace/name`) in a /config answer; null when it is not there. */
export function routesOf(configAnswer: unknown, service: string): PortRoutes[] | null {
  const config = (configAnswer as { config?: { services?: unknown } } | null)?.config;
  if (!Array.isArray(config?.services)) return null;
  const found = (config.services as Array<{ key?: unknown; ports?: RawPort[] }>).find((s) => s.key === service);
  if (found === undefined) return null;
  return (found.ports ?? []).map((port) => ({
    port: Number(port.port),
    trafficType: String(port.trafficType ?? ''),
    rules: (port.rules ?? []).map((rule) => ({
      matches: (rule.matches ?? []).map((m) => String(m.name ?? '')),
      destination: destinationView(rule.destination),
    })),
    destination: destinationView(port.destination),
  }));
}
