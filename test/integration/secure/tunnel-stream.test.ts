/**
 * TunnelClient.stream, the data plane's synchronous way into the tunnel: whatever goes wrong, it
 * hands back a stream that fails as a socket whose connect failed, and never throws into the
 * data plane. Addresses of this file: 127.89.0.0/16.
 */
import { expect } from 'chai';
import { createServer, type AddressInfo } from 'node:net';
import { createRootCa, trustBundle } from '../../../src/secure/ca.js';
import { TunnelClient, TunnelError } from '../../../src/secure/tunnel/client.js';
import { issueWorkloadCert } from '../../../src/secure/workload-cert.js';
import type { UpstreamSocket } from '../../../src/node-agent/runtime/dialer.js';

const TARGET = { host: '127.89.0.9', port: 80, service: 'shop/web:80/TCP' };

/** The error the stream fails with; it must close afterwards and never connect. */
function failure(stream: UpstreamSocket): Promise<Error> {
  return new Promise((resolve, reject) => {
    let error: Error | null = null;
    stream.once('connect', () => reject(new Error('the stream connected')));
    stream.once('error', (err: Error) => (error = err));
    stream.once('close', () => (error === null ? reject(new Error('closed without an error')) : resolve(error)));
  });
}

describe('secure/TunnelClient.stream', () => {
  const ca = createRootCa('cluster.local');
  const bundle = trustBundle(ca);

  it('fails the stream, without throwing, for an identity it holds no certificate for', async () => {
    const client = new TunnelClient({ certificate: () => undefined, trustBundle: () => bundle, trustDomain: 'cluster.local' });
    const stream = client.stream('shop/web', { host: '127.89.0.2', port: 1, nodeName: 'node-b' }, TARGET);
    const error = await failure(stream);
    expect(error).to.be.instanceOf(TunnelError);
    expect(error.message).to.equal('no certificate held for shop/web');
    expect(client.sessionCount).to.equal(0);
    client.close();
  });

  it('fails the stream when the peer agent cannot be reached (no listener)', async () => {
    const cert = issueWorkloadCert(ca, 'shop/web');
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.89.0.2', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const client = new TunnelClient({ certificate: () => cert, trustBundle: () => bundle, trustDomain: 'cluster.local' });
    const error = await failure(client.stream('shop/web', { host: '127.89.0.2', port, nodeName: 'node-b' }, TARGET));
    expect(error.message).to.match(/ECONNREFUSED|closed|canceled/);
    client.close();
  });
});
