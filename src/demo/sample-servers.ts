/**
 * Sample workloads for the demo: one server per endpoint (pod IP:port) of the meshed Services
 * of a compiled config, speaking the port's traffic type. HTTP servers answer with the name of
 * the pod they play (`x-served-by` header and body); TCP and UDP servers echo.
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { MeshConfig, TrafficType } from '../routing/mesh-config.js';

export interface SampleServer {
  /** `namespace/pod` the server plays (or `ip:port` when the endpoint has no pod). */
  readonly pod: string;
  readonly address: string;
  readonly port: number;
  readonly trafficType: TrafficType;
}

export interface SampleServers {
  readonly started: readonly SampleServer[];
  /** Endpoints that could not be served (address not local, port taken): one line each. */
  readonly failed: readonly string[];
  close(): Promise<void>;
}

/** One server per distinct endpoint ip:port/protocol of every meshed Service port. */
export function sampleServerSpecs(config: MeshConfig): SampleServer[] {
  const specs = new Map<string, SampleServer>();
  for (const service of config.services) {
    for (const port of service.ports) {
      const destinations = [port.destination, ...port.rules.map((r) => r.destination)];
      for (const destination of destinations) {
        if (destination.kind !== 'backends') continue;
        for (const backend of destination.backends) {
          for (const endpoint of backend.endpoints) {
            const key = `${endpoint.ip}:${endpoint.port}/${port.protocol}`;
            if (specs.has(key)) continue;
            specs.set(key, {
              pod: endpoint.pod ?? `${endpoint.ip}:${endpoint.port}`,
              address: endpoint.ip,
              port: endpoint.port,
              trafficType: port.trafficType,
            });
          }
        }
      }
    }
  }
  return [...specs.values()];
}

type Close = () => Promise<void>;

export async function startSampleServers(config: MeshConfig): Promise<SampleServers> {
  const started: SampleServer[] = [];
  const failed: string[] = [];
  const closers: Close[] = [];
  const sockets = new Set<Socket>();
  for (const spec of sampleServerSpecs(config)) {
    try {
      closers.push(await listen(spec, sockets));
      started.push(spec);
    } catch (err) {
      failed.push(`${spec.pod} on ${spec.address}:${spec.port}: ${(err as Error).message}`);
    }
  }
  return {
    started,
    failed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(closers.map((close) => close()));
    },
  };
}

function listen(spec: SampleServer, sockets: Set<Socket>): Promise<Close> {
  return new Promise((resolve, reject) => {
    if (spec.trafficType === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.on('message', (message, peer) => socket.send(message, peer.port, peer.address));
      socket.bind(spec.port, spec.address, () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(() => new Promise<void>((done) => socket.close(() => done())));
      });
      return;
    }
    const server: HttpServer | TcpServer = spec.trafficType === 'http'
      ? createHttpServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.setHeader('x-served-by', spec.pod);
          response.setHeader('content-type', 'text/plain');
          response.end(`${spec.pod}: ${request.method} ${request.url}\n`);
        });
      })
      : createTcpServer((socket) => {
        socket.on('error', () => socket.destroy());
        socket.pipe(socket);
      });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.once('error', reject);
    server.listen(spec.port, spec.address, () => {
      server.off('error', reject);
      resolve(() => new Promise<void>((done) => server.close(() => done())));
    });
  });
}
