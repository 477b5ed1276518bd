/** TCP and UDP through the mesh, and metrics that count what was sent (real agent). */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { expect } from 'chai';
import { httpBackend, httpCall, tcpEchoBackend, udpEchoBackend, type Backend } from './helpers/backends.js';
import { manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { eventually, metricValue, startAgent, type RunningAgent } from './helpers/plexus.js';

const NS = 'l4test';
const TCP_IP = '127.0.24.1';
const UDP_IP = '127.0.24.2';
const WEB_IP = '127.0.24.3';
const CLIENT_IP = '127.0.24.10';
const EXCHANGES = 5;

function tcpEcho(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress: CLIENT_IP });
    let received = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('TCP echo timed out')));
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= payload.length) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

function udpEcho(host: string, port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('UDP echo timed out'));
    }, 10_000);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message.toString());
    });
    socket.bind(0, CLIENT_IP, () => socket.send(payload, port, host));
  });
}

describe('local mode: TCP and UDP echo, metrics (real agent)', () => {
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('services.yaml',
      service({ name: 'tcpecho', namespace: NS, port: 9200, selector: { app: 'tcpecho' }, annotations: { 'plexus.dev/traffic-type': 'tcp' } }),
      service({ name: 'udpecho', namespace: NS, port: 9201, protocol: 'UDP', selector: { app: 'udpecho' }, annotations: { 'plexus.dev/traffic-type': 'udp' } }),
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      pod({ name: 'tcpecho', namespace: NS, ip: TCP_IP, labels: { app: 'tcpecho' } }),
      pod({ name: 'udpecho', namespace: NS, ip: UDP_IP, labels: { app: 'udpecho' } }),
      pod({ name: 'web', namespace: NS, ip: WEB_IP, labels: { app: 'web' } }),
      pod({ name: 'client', namespace: NS, ip: CLIENT_IP, serviceAccount: 'client' }));
    backends.push(await tcpEchoBackend(TCP_IP, 9200), await udpEchoBackend(UDP_IP, 9201), await httpBackend('web', WEB_IP, 8080));
    agent = await startAgent(['--manifests', folder.dir, '--node-name', 'n1', '--vip-cidr', '127.124.0.0/24', '--dns-port', '0', '--udp-idle-timeout', '1']);
  });

  after(async () => {
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  it('echoes over TCP through the VIP and counts each connection', async () => {
    const vip = agent!.ready.vips[`${NS}/tcpecho`]!;
    for (let i = 0; i < EXCHANGES; i++) expect(await tcpEcho(vip, 9200, `tcp ${i}\n`)).to.equal(`tcp ${i}\n`);
    const labels = { destination_namespace: NS, destination_service: 'tcpecho', source_namespace: NS };
    await eventually(async () => expect(await metricValue(agent!.ready.adminPort, 'plexus_tcp_connections_total', labels)).to.equal(EXCHANGES));
  });

  it('echoes over UDP through the VIP and counts each flow', async () => {
    const vip = agent!.ready.vips[`${NS}/udpecho`]!;
    for (let i = 0; i < EXCHANGES; i++) expect(await udpEcho(vip, 9201, `udp ${i}`)).to.equal(`udp ${i}`);
    const labels = { destination_namespace: NS, destination_service: 'udpecho' };
    // A flow is counted when it ends: after --udp-idle-timeout (1 s) without datagrams.
    await eventually(async () => expect(await metricValue(agent!.ready.adminPort, 'plexus_udp_flows_total', labels)).to.equal(EXCHANGES), 20_000);
  });

  it('counts HTTP requests by source namespace, destination and status code', async () => {
    const vip = agent!.ready.vips[`${NS}/web`]!;
    for (let i = 0; i < 7; i++) expect((await httpCall({ host: vip, port: 8080, from: CLIENT_IP })).status).to.equal(200);
    const labels = { source_namespace: NS, destination_namespace: NS, destination_service: 'web', status_code: '200' };
    await eventually(async () => expect(await metricValue(agent!.ready.adminPort, 'plexus_requests_total', labels)).to.equal(7));
  });
});
