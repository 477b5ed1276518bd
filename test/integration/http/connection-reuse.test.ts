import { expect } from 'chai';
import * as http from 'node:http';
import * as net from 'node:net';
import { closeServer, listen, meshConfig, rawExchange, request, startProxy, startUpstream, waitFor } from './harness.js';

describe('HTTP/1.1 proxy: connection edge cases', () => {
  for (const drop of ['closes', 'resets'] as const) {
    it(`resends an idempotent request once when a pooled connection ${drop === 'closes' ? 'is closed' : 'is reset'} as it is reused`, async () => {
      // Answers the first request of each connection, then drops the connection on the next one:
      // the keep-alive race where an endpoint closes an idle connection as the proxy reuses it.
      let connections = 0;
      const raw = net.createServer((socket) => {
        connections++;
        let served = 0;
        socket.on('data', () => {
          if (served++ === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          else if (drop === 'closes') socket.destroy();
          else socket.resetAndDestroy();
        });
        socket.on('error', () => undefined);
      });
      const port = await listen(raw);
      const proxy = await startProxy(meshConfig({ endpoints: [{ port }] }));
      try {
        expect((await request(proxy.port)).status).to.equal(200);
        const second = await request(proxy.port);
        expect(second.status).to.equal(200);
        expect(second.body.toString()).to.equal('ok');
        expect(connections).to.equal(2);
        expect(proxy.records.map((r) => [r.status, r.retries])).to.deep.equal([[200, 0], [200, 0]]);
      } finally {
        await proxy.close();
        await closeServer(raw);
      }
    });
  }

  it('relays 100 Continue for a request that expects it', async () => {
    const upstream = await startUpstream((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => res.end(`got ${body}`));
    });
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }));
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port: proxy.port, method: 'POST', headers: { expect: '100-continue', 'content-length': 5 },
        }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
          res.on('end', () => resolve(text));
        });
        req.on('continue', () => req.end('hello'));
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(reply).to.equal('got hello');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it('drains: an in-flight request finishes with Connection: close, then drain resolves', async () => {
    const held: { release?: () => void } = {};
    const upstream = await startUpstream((req, res) => {
      req.resume();
      held.release = () => res.end('late');
    });
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }));
    try {
      const reply = rawExchange(proxy.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitFor(() => held.release !== undefined);
      let drained = false;
      const drain = proxy.handler.drain().then(() => { drained = true; });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(drained).to.equal(false);
      held.release?.();
      const text = await reply;
      await drain;
      expect(text).to.match(/^HTTP\/1\.1 200 /);
      expect(text).to.include('Connection: close\r\n');
      expect(text.endsWith('late')).to.equal(true);
      expect(proxy.handler.activeConnections).to.equal(0);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it('answers a client that half-closes after its request', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      setImmediate(() => res.end('still here'));
    });
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }));
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
        socket.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      });
      expect(text).to.match(/^HTTP\/1\.1 200 /);
      expect(text.endsWith('still here')).to.equal(true);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it('answers HTTP/1.0 clients and closes after the response', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.end(`version ${req.httpVersion}`);
    });
    const proxy = await startProxy(meshConfig({ endpoints: [{ port: upstream.port }] }));
    try {
      const text = await rawExchange(proxy.port, 'GET / HTTP/1.0\r\n\r\n');
      expect(text).to.match(/^HTTP\/1\.1 200 /);
      expect(text.endsWith('version 1.0')).to.equal(true);
      expect(text).not.to.include('Transfer-Encoding');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
