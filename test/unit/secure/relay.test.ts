import { expect } from 'chai';
import { connect } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { pino } from 'pino';
import { OutboundRelay, type RelayRequest } from '../../../src/secure/tunnel/relay.js';

describe('secure/OutboundRelay', () => {
  it('bridges a data-plane socket to the stream of the identity its preamble names', async () => {
    const opened: RelayRequest[] = [];
    const relay = new OutboundRelay(async (request) => {
      opened.push(request);
      const echo = new PassThrough();
      return echo as Duplex;
    }, pino({ level: 'silent' }));
    await relay.listen();
    const socket = relay.connect({ identity: 'shop/web', node: 'node-b', host: '10.2.0.5', port: 80, service: 'shop/api:80/TCP' });
    socket.write('hello');
    const echoed = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    expect(echoed).to.equal('hello');
    expect(opened).to.deep.equal([{ identity: 'shop/web', node: 'node-b', host: '10.2.0.5', port: 80, service: 'shop/api:80/TCP' }]);
    socket.destroy();
    await relay.close();
  });

  it('refuses a local connection without the process token', async () => {
    let opened = 0;
    const relay = new OutboundRelay(async () => {
      opened++;
      return new PassThrough() as Duplex;
    }, pino({ level: 'silent' }));
    await relay.listen();
    const forged = connect({ host: '127.0.0.1', port: relay.port });
    forged.write(`${JSON.stringify({ token: 'guess', identity: 'shop/admin', node: 'n', host: '1.1.1.1', port: 1, service: 's' })}\n`);
    await new Promise<void>((resolve) => forged.once('close', () => resolve()));
    expect(opened).to.equal(0);
    await relay.close();
  });
});
