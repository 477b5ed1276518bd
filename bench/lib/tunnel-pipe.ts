/**
 * A child process of the proxy suite: the floor of the secure tunnel rows. Two of these, as two
 * nodes, are bare Node TCP pipes joined by the agent's own mutual-TLS HTTP/2 tunnel
 * (src/secure/tunnel): the caller side accepts TCP connections and opens a CONNECT stream per
 * connection on one session to the other side, whose TunnelServer pipes each stream to the
 * upstream (its L4 relay). No routing, no HTTP parsing, no telemetry: what two Node processes
 * and the tunnel cost by themselves, to compare with the bare Node TCP pipe (tcp-pipe.ts).
 *
 *   node tunnel-pipe.js in  CA_DIR NODE LISTEN_HOST
 *   node tunnel-pipe.js out CA_DIR LISTEN_HOST PEER_NODE PEER_HOST PEER_PORT UPSTREAM_HOST UPSTREAM_PORT
 *
 * Prints one JSON line `{"port": N}` when it listens.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { loadCa, trustBundle } from '../../src/secure/ca.js';
import { TunnelClient } from '../../src/secure/tunnel/client.js';
import { TunnelServer } from '../../src/secure/tunnel/server.js';
import { issueNodeCert, issueWorkloadCert } from '../../src/secure/workload-cert.js';
import { pipeBoth } from './pipe-both.js';

/** The identity the caller side presents (any workload identity of the CA would do). */
const CALLER_IDENTITY = 'bench/client';

const [mode, caDir, ...rest] = process.argv.slice(2);
if ((mode !== 'in' && mode !== 'out') || caDir === undefined) throw new Error('usage: tunnel-pipe in|out CA_DIR ...');
const ca = await loadCa(caDir);
const bundle = trustBundle(ca);

function announce(port: number): void {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

async function serveIn(nodeName: string, host: string): Promise<void> {
  const cert = issueNodeCert(ca, nodeName);
  const server = new TunnelServer({
    host, port: 0, trustDomain: ca.trustDomain, logger: pino({ level: 'silent' }),
    credentials: { certPem: cert.certPem, keyPem: cert.keyPem, trustBundle: bundle },
    // Every verified caller, to the one upstream it names: the floor has no policy to apply.
    authorize: () => ({ allowed: true, reason: 'tunnel floor', destination: 'upstream' }),
  });
  announce((await server.listen()).port);
}

function serveOut(host: string, peer: { nodeName: string; host: string; port: number }, upstream: { host: string; port: number }): void {
  const cert = issueWorkloadCert(ca, CALLER_IDENTITY);
  const client = new TunnelClient({ certificate: () => cert, trustBundle: () => bundle, trustDomain: ca.trustDomain });
  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    socket.pause();
    const stream = client.stream(CALLER_IDENTITY, peer, { ...upstream, service: null });
    stream.once('connect', () => pipeBoth(socket, stream));
    stream.once('error', () => socket.destroy());
    socket.once('error', () => stream.destroy());
  });
  server.listen({ host, port: 0 }, () => announce((server.address() as AddressInfo).port));
}

if (mode === 'in') {
  const [nodeName, host] = rest;
  if (!nodeName || !host) throw new Error('usage: tunnel-pipe in CA_DIR NODE LISTEN_HOST');
  await serveIn(nodeName, host);
} else {
  const [host, peerNode, peerHost, peerPort, upstreamHost, upstreamPort] = rest;
  if (!host || !peerNode || !peerHost || !Number(peerPort) || !upstreamHost || !Number(upstreamPort)) {
    throw new Error('usage: tunnel-pipe out CA_DIR LISTEN_HOST PEER_NODE PEER_HOST PEER_PORT UPSTREAM_HOST UPSTREAM_PORT');
  }
  serveOut(host, { nodeName: peerNode, host: peerHost, port: Number(peerPort) }, { host: upstreamHost, port: Number(upstreamPort) });
}
process.on('SIGTERM', () => process.exit(0));
