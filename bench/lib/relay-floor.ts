/**
 * A child process of the proxy suite: the floor of the connection-per-request row. The least a
 * Node HTTP proxy does for a request on a new connection: accept it, read the request head, send
 * it over a pooled keep-alive connection to the upstream, pass the response back marked
 * `Connection: close`, and close. No routing, no policy, no telemetry, no timeouts; it reads only
 * what the bench's upstream sends (a response with Content-Length, head and body as they come).
 *
 *   node relay-floor.js LISTEN_HOST UPSTREAM_HOST UPSTREAM_PORT
 *
 * Prints one JSON line `{"port": N}` when it listens.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

const [host, upstreamHost, upstreamPort] = process.argv.slice(2);
if (!host || !upstreamHost || !Number(upstreamPort)) throw new Error('usage: relay-floor LISTEN_HOST UPSTREAM_HOST UPSTREAM_PORT');

const HEAD_END = '\r\n\r\n';
const idle: Socket[] = [];
/** The client a pooled upstream connection is answering. */
const answering = new Map<Socket, { client: Socket; received: Buffer | null }>();

function onUpstreamData(upstream: Socket, chunk: Buffer): void {
  const exchange = answering.get(upstream);
  if (exchange === undefined) return;
  const received = exchange.received === null ? chunk : Buffer.concat([exchange.received, chunk]);
  const text = received.toString('latin1');
  const headEnd = text.indexOf(HEAD_END);
  const length = /\r\ncontent-length: *(\d+)/i.exec(text);
  if (headEnd === -1 || length === null || received.length < headEnd + 4 + Number(length[1])) {
    exchange.received = received;
    return;
  }
  answering.delete(upstream);
  idle.push(upstream);
  exchange.client.end(text.replace(/\r\nconnection: *keep-alive/i, '\r\nConnection: close'), 'latin1');
}

function upstreamConnection(): Socket {
  const pooled = idle.pop();
  if (pooled !== undefined) return pooled;
  const upstream = connect({ host: upstreamHost, port: Number(upstreamPort), noDelay: true });
  upstream.on('data', (chunk: Buffer) => onUpstreamData(upstream, chunk));
  upstream.on('error', () => undefined);
  upstream.on('close', () => {
    const index = idle.indexOf(upstream);
    if (index !== -1) idle.splice(index, 1);
    answering.get(upstream)?.client.destroy();
    answering.delete(upstream);
  });
  return upstream;
}

const server = createServer({ noDelay: true }, (client) => {
  let received: Buffer | null = null;
  client.on('data', (chunk: Buffer) => {
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const head = received.toString('latin1');
    if (!head.includes(HEAD_END)) return;
    const upstream = upstreamConnection();
    answering.set(upstream, { client, received: null });
    upstream.write(head.replace(/\r\nconnection: *close/i, ''), 'latin1');
  });
  client.on('end', () => client.destroy());
  client.on('error', () => client.destroy());
});
server.listen({ host, port: 0 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
