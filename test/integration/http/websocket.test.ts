import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { type ProxyUnderTest, closeServer, listen, meshConfig, startProxy, waitFor } from './harness.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** One text frame (payload < 126 bytes), masked when sent by a client. */
function frame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  const mask = masked ? randomBytes(4) : null;
  const head = Buffer.from([0x81, (masked ? 0x80 : 0) | payload.length]);
  if (mask === null) return Buffer.concat([head, payload]);
  const body = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
  return Buffer.concat([head, mask, body]);
}

/** Decodes one complete text frame (payload < 126 bytes). */
function unframe(data: Buffer): string | null {
  if (data.length < 2) return null;
  const masked = ((data[1] as number) & 0x80) !== 0;
  const length = (data[1] as number) & 0x7f;
  const start = masked ? 6 : 2;
  if (data.length < start + length) return null;
  const payload = data.subarray(start, start + length);
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (data[2 + (i % 4)] as number);
  return payload.toString();
}

describe('HTTP/1.1 proxy: WebSocket', () => {
  let server: http.Server;
  let proxy: ProxyUnderTest;

  before(async () => {
    // A minimal WebSocket echo server: handshake with node:crypto, then echo each text frame.
    server = http.createServer((_req, res) => res.end('not a websocket request'));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`);
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        const text = unframe(pending);
        if (text === null) return;
        pending = Buffer.alloc(0);
        socket.write(frame(`echo: ${text}`, false));
      });
      socket.on('end', () => socket.end());
      socket.on('error', () => undefined);
    });
    const port = await listen(server);
    proxy = await startProxy(meshConfig({ endpoints: [{ port }] }));
  });

  after(async () => {
    await proxy.close();
    await closeServer(server);
  });

  it('upgrades through the proxy and echoes frames both ways', async () => {
    const key = randomBytes(16).toString('base64');
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    socket.on('error', () => undefined);
    socket.write(`GET /chat HTTP/1.1\r\nHost: web.shop.plexus\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let received = Buffer.alloc(0);
    const next = (): Promise<[string, string]> => new Promise((resolve) => {
      const check = (): void => {
        const end = received.indexOf('\r\n\r\n');
        if (!received.subarray(0, 4).equals(Buffer.from('HTTP')) || end === -1) return;
        const head = received.subarray(0, end).toString();
        const text = unframe(received.subarray(end + 4));
        if (text === null) return;
        socket.off('data', onData);
        received = Buffer.concat([received.subarray(0, end + 4)]);
        resolve([head, text]);
      };
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        check();
      };
      socket.on('data', onData);
    });
    const first = next();
    socket.write(frame('hello', true));
    const [head, text] = await first;
    expect(head).to.match(/^HTTP\/1\.1 101 Switching Protocols\r/);
    expect(head).to.include(`Sec-WebSocket-Accept: ${acceptKey(key)}`);
    expect(text).to.equal('echo: hello');

    const second = next();
    socket.write(frame('again', true));
    expect((await second)[1]).to.equal('echo: again');

    socket.end();
    await waitFor(() => proxy.records.length === 1);
    expect(proxy.records[0]).to.include({ protocol: 'websocket', status: 101, path: '/chat' });
  });
});
