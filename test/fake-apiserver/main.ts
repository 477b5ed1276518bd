/**
 * The fake API server as its own process, for tests that need it outside their own process:
 *   node main.js [--port N] [--host H] [--allow-loopback-endpoints] [--bookmark-interval-ms N]
 * Prints one JSON line `{"url", "port", "controlPort"}` once listening. Test-control endpoints:
 * POST /_fake/compact, POST /_fake/break-watches, GET /_fake/requests on the separate
 * `controlPort` (also printed). SIGTERM/SIGINT stop it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeApiServer } from './server.js';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const server = new FakeApiServer({
  host: option('--host') ?? '127.0.0.1',
  port: Number(option('--port') ?? 0),
  allowLoopbackEndpoints: process.argv.includes('--allow-loopback-endpoints'),
  bookmarkIntervalMs: Number(option('--bookmark-interval-ms') ?? 1000),
});
await server.start();

// Control lives on its own port so it never shadows an API path.
const control = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/_fake/compact') server.compact();
  else if (req.method === 'POST' && req.url === '/_fake/break-watches') server.breakWatches();
  else if (req.method === 'GET' && req.url === '/_fake/requests') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(server.requests));
    return;
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(204).end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));

process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, controlPort: (control.address() as AddressInfo).port })}\n`);

const shutdown = (): void => {
  control.close();
  void server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
