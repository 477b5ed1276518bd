/** Starts the upstreams and the reference proxies (nginx, haproxy) the agent is compared with. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForHttp } from './net.js';
import { launchNodeOptions } from '../../src/cli/launch.js';
import { NAMED_BACKENDS_JS, RELAY_FLOOR_JS, TCP_PIPE_JS, TUNNEL_PIPE_JS } from './paths.js';
import { haproxyConfig, nginxProxyConfig, nginxUpstreamConfig, type Address } from './peer-configs.js';
import { start, type Managed } from './processes.js';
import { commandPath } from './tools.js';

export interface Peer {
  readonly process: Managed;
  readonly address: Address;
  /** What it is, for the output. */
  readonly label: string;
}

const READY_TIMEOUT_MS = 15_000;

async function ready(peer: Peer): Promise<Peer> {
  let waiting = true;
  const exited = peer.process.exited.then((code) => {
    if (waiting) throw new Error(`${peer.label} exited (${code}):\n${peer.process.output()}`);
  });
  try {
    await Promise.race([waitForHttp(`http://${peer.address.host}:${peer.address.port}/`, READY_TIMEOUT_MS), exited]);
  } finally {
    waiting = false;
  }
  return peer;
}

function nginxPrefix(workDir: string, name: string, config: string): string {
  const prefix = join(workDir, name);
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'nginx.conf'), config);
  return prefix;
}

export async function startNginxUpstream(workDir: string, host: string, cpu: number | null): Promise<Peer> {
  const address = { host, port: await freePort(host) };
  const prefix = join(workDir, 'nginx-upstream');
  nginxPrefix(workDir, 'nginx-upstream', nginxUpstreamConfig(prefix, address));
  const child = start({ name: 'nginx upstream', command: commandPath('nginx'), args: ['-e', 'stderr', '-p', `${prefix}/`, '-c', 'nginx.conf'], cpu });
  return ready({ process: child, address, label: 'nginx upstream (return 200 "ok")' });
}

/** node:http servers answering their names, on one port; `ok@host` is a plain upstream. */
export async function startNamedBackends(backends: readonly { name: string; host: string }[], cpu: number | null): Promise<{ process: Managed; port: number }> {
  const child = start({
    name: 'node backends', command: process.execPath,
    args: [NAMED_BACKENDS_JS, '0', ...backends.map((b) => `${b.name}@${b.host}`)], cpu,
  });
  const line = await child.waitForLine((l) => l.startsWith('{"port"'), READY_TIMEOUT_MS);
  return { process: child, port: (JSON.parse(line) as { port: number }).port };
}

export async function startNodeUpstream(host: string, cpu: number | null): Promise<Peer> {
  const { process: child, port } = await startNamedBackends([{ name: 'ok', host }], cpu);
  return ready({ process: child, address: { host, port }, label: 'node:http upstream (200 "ok")' });
}

export async function startNginxProxy(workDir: string, host: string, upstream: Address, cpu: number | null): Promise<Peer> {
  const address = { host, port: await freePort(host) };
  const prefix = join(workDir, 'nginx-proxy');
  nginxPrefix(workDir, 'nginx-proxy', nginxProxyConfig(prefix, address, upstream));
  const child = start({ name: 'nginx proxy', command: commandPath('nginx'), args: ['-e', 'stderr', '-p', `${prefix}/`, '-c', 'nginx.conf'], cpu });
  return ready({ process: child, address, label: 'nginx reverse proxy' });
}

export async function startHaproxy(workDir: string, host: string, upstream: Address, cpu: number | null): Promise<Peer> {
  const address = { host, port: await freePort(host) };
  const file = join(workDir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(address, upstream));
  const child = start({ name: 'haproxy', command: commandPath('haproxy'), args: ['-db', '-f', file], cpu });
  return ready({ process: child, address, label: 'haproxy' });
}

/** The bare Node TCP pipe (bench/lib/tcp-pipe.ts): what the agent's TCP path is measured against. */
export async function startTcpPipe(host: string, upstream: Address, cpu: number | null): Promise<Peer> {
  const child = start({ name: 'node tcp pipe', command: process.execPath, args: [TCP_PIPE_JS, host, upstream.host, String(upstream.port)], cpu });
  const line = await child.waitForLine((l) => l.startsWith('{"port"'), READY_TIMEOUT_MS);
  return ready({ process: child, address: { host, port: (JSON.parse(line) as { port: number }).port }, label: 'bare node TCP pipe' });
}

/**
 * The connection-per-request row's floor (bench/lib/relay-floor.ts): the least a Node HTTP proxy
 * does per new connection, started with the agent's node options (src/cli/launch.ts).
 */
export async function startRelayFloor(host: string, upstream: Address, cpu: number | null): Promise<Peer> {
  const args = [...launchNodeOptions(), RELAY_FLOOR_JS, host, upstream.host, String(upstream.port)];
  const child = start({ name: 'node relay floor', command: process.execPath, args, cpu });
  const line = await child.waitForLine((l) => l.startsWith('{"port"'), READY_TIMEOUT_MS);
  return ready({ process: child, address: { host, port: (JSON.parse(line) as { port: number }).port }, label: 'bare node HTTP relay' });
}

/**
 * The secure rows' floor (bench/lib/tunnel-pipe.ts): two bare Node pipes as two nodes, joined by
 * the agent's mTLS HTTP/2 tunnel. `caller` takes the connections; `destination` is its peer.
 */
export async function startTunnelPipes(caDir: string, host: string, destinationHost: string, upstream: Address, cpu: number | null): Promise<{ caller: Peer; destination: Managed }> {
  const portOf = async (child: Managed): Promise<number> => (JSON.parse(await child.waitForLine((l) => l.startsWith('{"port"'), READY_TIMEOUT_MS)) as { port: number }).port;
  const destination = start({ name: 'tunnel pipe (destination)', command: process.execPath, args: [TUNNEL_PIPE_JS, 'in', caDir, 'node-b', destinationHost], cpu });
  try {
    const tunnelPort = await portOf(destination);
    const child = start({
      name: 'tunnel pipe (caller)', command: process.execPath, cpu,
      args: [TUNNEL_PIPE_JS, 'out', caDir, host, 'node-b', destinationHost, String(tunnelPort), upstream.host, String(upstream.port)],
    });
    const caller = await ready({ process: child, address: { host, port: await portOf(child) }, label: 'bare node pipes, mTLS tunnel' }).catch(async (err: unknown) => {
      await child.stop();
      throw err;
    });
    return { caller, destination };
  } catch (err) {
    await destination.stop();
    throw err;
  }
}
