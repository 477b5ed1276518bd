import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { NodeAgent } from '../../../src/node-agent/agent.js';
import { endpoint, freePort, meshConfig, startAgent } from './fixtures.js';

// Addresses of this file: 127.161.0.0/16.
const UPSTREAM = '127.161.0.1';
const VIP = '127.161.1.1';
const CALLER = '127.161.2.1';

/** Reads a tap stream line by line; `next()` waits for the next line that passes `keep`. */
class TapReader {
  readonly #lines: Array<Record<string, unknown>> = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = '';

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  async next(keep: (line: Record<string, unknown>) => boolean = (line) => line.type === 'request'): Promise<Record<string, unknown>> {
    const decoder = new TextDecoder();
    for (;;) {
      const index = this.#lines.findIndex(keep);
      if (index >= 0) return this.#lines.splice(0, index + 1).pop()!;
      const { done, value } = await this.#reader.read();
      if (done) throw new Error('the tap stream ended');
      this.#buffer += decoder.decode(value, { stream: true });
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop() ?? '';
      for (const part of parts) if (part !== '') this.#lines.push(JSON.parse(part) as Record<string, unknown>);
    }
  }

  async close(): Promise<void> {
    await this.#reader.cancel();
  }
}

describe('agent: /tap', () => {
  let agent: NodeAgent;
  let upstream: Server;
  let client: Agent;
  let port: number;
  let tokenDir: string;
  let tokenFile: string;

  async function call(path: string, method = 'GET'): Promise<number> {
    const response = await request(`http://${VIP}:${port}${path}?secret=query`, { dispatcher: client, method });
    await response.body.text();
    return response.statusCode;
  }

  async function tap(query: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`http://127.0.0.1:${agent.adminPort}/tap?${query}`, { headers });
  }

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, UPSTREAM, resolve));
    port = await freePort(VIP);
    tokenDir = mkdtempSync(join(tmpdir(), 'plexus-tap-'));
    tokenFile = join(tokenDir, 'token');
    client = new Agent({ connections: 4, localAddress: CALLER });
  });

  afterEach(async () => {
    await agent.stop();
  });

  after(async () => {
    await client.destroy();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(tokenDir, { recursive: true, force: true });
  });

  async function start(tapTokenFile: string | null): Promise<void> {
    ({ agent } = startAgent({ tapTokenFile }));
    await agent.start();
    await agent.apply(meshConfig(
      [{ namespace: 'shop', name: 'web', vip: VIP, ports: [{ port, trafficType: 'http', endpoints: [endpoint(UPSTREAM, (upstream.address() as AddressInfo).port)] }] }],
      [{ ip: CALLER, namespace: 'shop', pod: 'front-1', serviceAccount: 'front'}],
    ));
  }

  it('streams the requests of one Service, filtered by method, without the query', async () => {
    await start(null);
    const response = await tap('service=shop/web&method=POST');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.contain('application/x-ndjson');
    const reader = new TapReader(response.body!);
    await reader.next((line) => line.type === 'heartbeat');
    expect(await call('/get-me')).to.equal(200);
    expect(await call('/missing/1', 'POST')).to.equal(404);
    const event = await reader.next();
    expect(event).to.include({ method: 'POST', path: '/missing/1', status: 404, outcome: 'client_error', source: 'shop/front', destination: `shop/web:${port}` });
    expect(JSON.stringify(event)).to.not.contain('secret');
    await reader.close();
  });

  it('with a tap token, refuses a tap without it or with a wrong one, and serves the right one', async () => {
    writeFileSync(tokenFile, 's3cret-token\n');
    await start(tokenFile);
    expect((await tap('')).status).to.equal(403);
    const wrong = await tap('', { 'x-plexus-tap-token': 'guess' });
    expect(wrong.status).to.equal(403);
    expect(await wrong.json()).to.deep.equal({ error: 'wrong tap token' });
    const right = await tap('namespace=shop', { 'x-plexus-tap-token': 's3cret-token' });
    expect(right.status).to.equal(200);
    const reader = new TapReader(right.body!);
    expect(await call('/x')).to.equal(200);
    expect(await reader.next()).to.include({ path: '/x', status: 200 });
    await reader.close();
  });

  it('answers 400 with the reason for a malformed query', async () => {
    await start(null);
    const response = await tap('service=web');
    expect(response.status).to.equal(400);
    expect(await response.json()).to.deep.equal({ error: 'service "web" is not namespace/name' });
  });

  it('a tap that is never read does not slow or fail traffic', async () => {
    await start(null);
    const stalled = await tap('rate=1000');
    expect(stalled.status).to.equal(200);
    // Never read from here on.
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => call(`/load/${i}`)));
    expect(results.every((status) => status === 200)).to.equal(true);
    await stalled.body!.cancel();
  });
});
