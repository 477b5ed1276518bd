/**
 * A child process of the benchmark: node:http servers that answer every request with their own
 * name (`ok` for the plain upstream), so a response shows which backend, and so which config,
 * served it.
 *
 *   node named-backends.js PORT NAME@HOST [NAME@HOST ...]
 *
 * PORT 0 picks a free port on the first host and uses it for all. Prints one JSON line
 * `{"port": N}` when every server listens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

function serve(name: string, host: string, port: number): Promise<Server> {
  const body = Buffer.from(name);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const [portArg, ...specs] = process.argv.slice(2);
  let port = Number(portArg);
  if (!Number.isInteger(port) || specs.length === 0) throw new Error('usage: named-backends PORT NAME@HOST...');
  const servers: Server[] = [];
  for (const spec of specs) {
    const [name, host] = spec.split('@');
    if (!name || !host) throw new Error(`"${spec}" is not NAME@HOST`);
    const server = await serve(name, host, port);
    port = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  const stop = (): void => {
    for (const server of servers) server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
