/**
 * The destination agent authorizes what the pod will see: a request arriving through the tunnel
 * is normalised with the agent's path policy before its TrafficTarget rules are checked, and is
 * forwarded as normalised. The source agent normalises too, but the destination must not trust
 * it (a compromised node can write any request onto a tunnel stream). Real HTTP on loopback: a
 * TCP connection stands for the tunnel stream the TunnelServer hands to `deliver`.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'chai';
import { pino } from 'pino';
import { DEFAULT_PATH_POLICY } from '../../../src/node-agent/http/request-target.js';
import { DestinationPolicy } from '../../../src/secure/destination.js';
import { NO_METRICS } from '../../../src/secure/metrics.js';
import { backend, backends, endpoint, meshConfig, meshPort, meshService } from '../../unit/runtime/fixtures.js';

const HOST = '127.0.0.1';

/** One raw HTTP/1.1 exchange on a new connection; the status line and body as text. */
function exchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Written, not ended: the server closes after its answer (`connection: close`), as a tunnel stream stays open.
    const socket = connect(port, HOST, () => socket.write(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('secure/DestinationPolicy: request paths through the tunnel', () => {
  let pod: HttpServer;
  let tunnel: Server;
  let policy: DestinationPolicy;
  const seen: string[] = [];

  before(async () => {
    pod = createHttpServer((req, res) => {
      seen.push(req.url ?? '');
      res.end(`pod saw ${req.url}`);
    });
    await new Promise<void>((resolve) => pod.listen(0, HOST, resolve));
    const podPort = (pod.address() as AddressInfo).port;
    policy = new DestinationPolicy({ nodeName: 'node-a', acl: true, paths: DEFAULT_PATH_POLICY, logger: pino({ level: 'silent' }), metrics: NO_METRICS });
    policy.setConfig(meshConfig([meshService('shop/web', [meshPort({
      port: 80, destination: backends([backend('shop/web', 1, [endpoint(HOST, podPort)])]),
      access: [{ trafficTarget: 'shop/public', sources: ['shop/front'], http: [{ name: 'public', pathRegex: '/public/.*', methods: ['GET'], headers: [] }] }],
    })])]));
    const target = { host: HOST, port: podPort, service: 'shop/web:80/TCP' };
    expect(policy.authorize('shop/front', target)).to.include({ allowed: true, perRequest: true });
    const deliver = policy.deliver('shop/front', target);
    if (deliver === null) throw new Error('an HTTP port must be delivered to the per-request authorizer');
    tunnel = createServer((socket) => deliver(socket));
    await new Promise<void>((resolve) => tunnel.listen(0, HOST, resolve));
  });

  after(async () => {
    policy.close();
    await new Promise<void>((resolve) => tunnel.close(() => resolve()));
    pod.closeAllConnections();
    await new Promise<void>((resolve) => pod.close(() => resolve()));
  });

  const send = (target: string): Promise<string> =>
    exchange((tunnel.address() as AddressInfo).port, `GET ${target} HTTP/1.1\r\nhost: web.shop\r\nconnection: close\r\n\r\n`);

  it('allows and forwards a path the rule grants', async () => {
    const reply = await send('/public/page?x=1');
    expect(reply).to.match(/^HTTP\/1\.1 200 /).and.contain('pod saw /public/page?x=1');
  });

  it('judges dot-segments by where they lead: /public/../admin is /admin, refused, never reaching the pod', async () => {
    seen.length = 0;
    for (const target of ['/public/../admin', '/public/%2e%2e/admin', '/public/./../admin']) {
      expect(await send(target), target).to.match(/^HTTP\/1\.1 403 /).and.contain('no TrafficTarget grants shop/front GET /admin');
    }
    expect(seen).to.deep.equal([]);
  });

  it('forwards the normalised path, so the pod sees what was authorized', async () => {
    seen.length = 0;
    const reply = await send('/public//x/./y/../z');
    expect(reply).to.match(/^HTTP\/1\.1 200 /);
    expect(seen).to.deep.equal(['/public/x/z']);
  });

  it('answers 400 to a target that cannot be read one way only (escaped slash, NUL), never reaching the pod', async () => {
    seen.length = 0;
    for (const target of ['/public/..%2Fadmin', '/public/%00', '/public/..;/admin']) {
      expect(await send(target), target).to.match(/^HTTP\/1\.1 400 /);
    }
    expect(seen).to.deep.equal([]);
  });
});
