/** Several nodes on one machine: two agents, each serving the pods of its node. */
import { expect } from 'chai';
import { httpBackend, httpCall, type Backend } from './helpers/backends.js';
import { addresses, dnsQuery } from './helpers/dns.js';
import { httpAccess, manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { freeDnsPort, startAgent, type RunningAgent } from './helpers/plexus.js';

const NS = 'nodestest';
const WEB_A_IP = '127.0.26.1';
const WEB_B_IP = '127.0.26.2';
const CLIENT_A_IP = '127.0.26.10';
const CLIENT_B_IP = '127.0.26.11';

describe('local mode: two agents as two nodes on one machine', () => {
  let folder: ManifestFolder;
  let nodeA: RunningAgent | null = null;
  let nodeB: RunningAgent | null = null;
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('workloads.yaml',
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      pod({ name: 'web-a', namespace: NS, ip: WEB_A_IP, labels: { app: 'web' }, serviceAccount: 'web', nodeName: 'node-a' }),
      pod({ name: 'web-b', namespace: NS, ip: WEB_B_IP, labels: { app: 'web' }, serviceAccount: 'web', nodeName: 'node-b' }),
      pod({ name: 'client-a', namespace: NS, ip: CLIENT_A_IP, serviceAccount: 'client', nodeName: 'node-a' }),
      pod({ name: 'client-b', namespace: NS, ip: CLIENT_B_IP, serviceAccount: 'client', nodeName: 'node-b' }));
    await folder.write('access.yaml', httpAccess(NS, 'client-to-web', 'web', 'client', [{ name: 'all', pathRegex: '/.*', methods: ['*'] }]));
    backends.push(await httpBackend('web-a', WEB_A_IP, 8080), await httpBackend('web-b', WEB_B_IP, 8080));
    const common = ['--manifests', folder.dir, '--acl'];
    nodeA = await startAgent([...common, '--node-name', 'node-a', '--vip-cidr', '127.126.0.0/24', '--dns-port', String(await freeDnsPort())]);
    nodeB = await startAgent([...common, '--node-name', 'node-b', '--vip-cidr', '127.127.0.0/24', '--dns-port', String(await freeDnsPort())]);
  });

  after(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  it('each agent answers DNS with its own VIP', async () => {
    const a = addresses(await dnsQuery(nodeA!.ready.dnsPort, `web.${NS}.plexus`));
    const b = addresses(await dnsQuery(nodeB!.ready.dnsPort, `web.${NS}.plexus`));
    expect(a[0]).to.match(/^127\.126\.0\./);
    expect(b[0]).to.match(/^127\.127\.0\./);
  });

  it('a client on node A is served by agent A, one on node B by agent B', async () => {
    const vipA = nodeA!.ready.vips[`${NS}/web`]!;
    const vipB = nodeB!.ready.vips[`${NS}/web`]!;
    expect((await httpCall({ host: vipA, port: 8080, from: CLIENT_A_IP })).status).to.equal(200);
    expect((await httpCall({ host: vipB, port: 8080, from: CLIENT_B_IP })).status).to.equal(200);
  });

  it('an agent does not know the pods of the other node: their calls are refused (fail closed)', async () => {
    const vipA = nodeA!.ready.vips[`${NS}/web`]!;
    const vipB = nodeB!.ready.vips[`${NS}/web`]!;
    expect((await httpCall({ host: vipA, port: 8080, from: CLIENT_B_IP })).status).to.equal(403);
    expect((await httpCall({ host: vipB, port: 8080, from: CLIENT_A_IP })).status).to.equal(403);
  });

  it('backends are reached straight at their pods, on either node', async () => {
    const vipA = nodeA!.ready.vips[`${NS}/web`]!;
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await httpCall({ host: vipA, port: 8080, from: CLIENT_A_IP })).body);
    expect([...seen].sort()).to.deep.equal(['web-a', 'web-b']);
  });
});
