/**
 * A child process of the proxy suite: the bare Node TCP pipe the agent's TCP path is compared
 * with (one upstream connection per client connection, `pipe()` both ways, noDelay).
 *
 *   node tcp-pipe.js LISTEN_HOST UPSTREAM_HOST UPSTREAM_PORT
 *
 * Prints one JSON line `{"port": N}` when it listens.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { pipeBoth } from './pipe-both.js';

const [host, upstreamHost, upstreamPort] = process.argv.slice(2);
if (!host || !upstreamHost || !Number(upstreamPort)) throw new Error('usage: tcp-pipe LISTEN_HOST UPSTREAM_HOST UPSTREAM_PORT');

const server = createServer({ noDelay: true }, (client) => {
  pipeBoth(client, connect({ host: upstreamHost, port: Number(upstreamPort), noDelay: true }));
});
server.listen({ host, port: 0 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
