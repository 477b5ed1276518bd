/**
 * The fake API server as its own process, for tests that need it outside their own process:
 *   node main.js [--port N] [--host H] [--allow-loopback-endpoints] [--bookmark-interval-ms N]
 * Prints one JSON line `{"url", "port", "controlPort"}` once listening. Test-control endpoints:
 * POST /_fake/compact, POST /_fake/break-watches, POST /_fake/stop, POST /_fake/start,
 * POST /_fake/restart, POST /_fake/freeze, POST /_fake/thaw, GET /_fake/requests on the separate
 * `controlPort` (also printed): stop and start keep the data and the port, so a client sees an
 * API server that went away and came back (killing the process would lose the data); freeze
 * leaves requests unanswered (a hung server) until thaw. SIGTERM/SIGINT stop it.
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
const actions: Readonly<Record<string, () => void | Promise<void>>> = {
  '/_fake/compact': () => server.compact(),
  '/_fake/break-watches': () => server.breakWatches(),
  '/_fake/stop': () => server.stop(),
  '/_fake/start': () => server.start(),
  '/_fake/restart': () => server.restart(),
  '/_fake/freeze': () => server.freeze(),
  '/_fake/thaw': () => server.thaw(),
};

const control = createServer((req, res) => {
  const action = req.method === 'POST' ? actions[req.url ?? ''] : undefined;
  if (action) {
    Promise.resolve(action()).then(
      () => res.writeHead(204).end(),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(err instanceof Error ? err.message : String(err)),
    );
    return;
  }
  if (req.method === 'GET' && req.url === '/_fake/requests') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(server.requests));
    return;
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));

process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, controlPort: (control.address() as AddressInfo).port })}\n`);

const shutdown = (): void => {
  control.close();
  void server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
