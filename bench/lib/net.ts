/** Small network helpers: free ports, readiness polling and one-off HTTP requests. */
import { request, Agent } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port free on `host` right now (for programs such as nginx that cannot report port 0). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export interface GetOptions {
  readonly localAddress?: string;
  readonly agent?: Agent;
  readonly timeoutMs?: number;
}

export function httpGet(url: string, options: GetOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: options.agent ?? false, localAddress: options.localAddress, timeout: options.timeoutMs ?? 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `url` until it answers `status` (default 200); throws after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const answer = await httpGet(url, { timeoutMs: 2000 });
      if (answer.status === status) return;
      last = `HTTP ${answer.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (${last})`);
}
