/** Local mode end to end: DNS name → VIP → agent → backend pod, with the real binary. */
import { expect } from 'chai';
import { httpBackend, httpCall, type Backend } from './helpers/backends.js';
import { addresses, dnsQuery } from './helpers/dns.js';
import { manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { eventually, freeDnsPort, startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';

const NS = 'dnstest';
const WEB_IP = '127.0.21.1';
const API_IP = '127.0.21.2';

describe('local mode: DNS → VIP → HTTP (real agent)', () => {
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('ns.yaml', namespace(NS));
    await folder.write('web.yaml',
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      pod({ name: 'web-1', namespace: NS, ip: WEB_IP, labels: { app: 'web' } }));
    backends.push(await httpBackend('web-1', WEB_IP, 8080), await httpBackend('api-1', API_IP, 8080));
    agent = await startAgent(['--manifests', folder.dir, '--node-name', 'n1', '--vip-cidr', '127.121.0.0/24', '--dns-port', String(await freeDnsPort())]);
  });

  after(async () => {
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  it('logs the bound admin and DNS ports when ready', () => {
    expect(agent?.ready.adminPort).to.be.greaterThan(0);
    expect(agent?.ready.dnsPort).to.be.greaterThan(0);
    expect(agent?.ready.vips[`${NS}/web`]).to.match(/^127\.121\.0\./);
  });

  it('resolves <svc>.<ns>.plexus to the VIP, and HTTP through it reaches the backend', async () => {
    const ready = agent!.ready;
    const reply = await dnsQuery(ready.dnsPort, `web.${NS}.plexus`);
    expect(reply.rcode).to.equal('NOERROR');
    const [vip] = addresses(reply);
    expect(vip).to.equal(ready.vips[`${NS}/web`]);
    const result = await httpCall({ host: vip!, port: 8080, path: '/hello' });
    expect(result.status).to.equal(200);
    expect(result.body).to.equal('web-1');
  });

  it('answers NXDOMAIN for an unknown mesh name and REFUSED outside the mesh domain', async () => {
    const port = agent!.ready.dnsPort;
    expect((await dnsQuery(port, `nope.${NS}.plexus`)).rcode).to.equal('NXDOMAIN');
    expect((await dnsQuery(port, 'example.com')).rcode).to.equal('REFUSED');
  });

  it('serves a Service added to the folder while running, by name and VIP', async () => {
    const ready = agent!.ready;
    await folder.write('api.yaml',
      service({ name: 'api', namespace: NS, port: 8080, selector: { app: 'api' } }),
      pod({ name: 'api-1', namespace: NS, ip: API_IP, labels: { app: 'api' } }));
    const view = await waitForConfig(ready.adminPort, (v) => v.config.services.some((s) => s.key === `${NS}/api`));
    const vip = view.config.services.find((s) => s.key === `${NS}/api`)?.vip;
    await eventually(async () => expect(addresses(await dnsQuery(ready.dnsPort, `API.${NS}.plexus.`))).to.deep.equal([vip]));
    const result = await eventually(() => httpCall({ host: vip!, port: 8080 }));
    expect(result.body).to.equal('api-1');
    // The first Service kept its VIP.
    expect(view.config.allocation.vips[`${NS}/web`]).to.equal(ready.vips[`${NS}/web`]);
  });

  it('keeps serving the last good version of a file with a YAML error, and reports it', async () => {
    const ready = agent!.ready;
    await folder.write('web.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: web\n');
    const readiness = await eventually(async () => {
      const body = (await (await fetch(`http://127.0.0.1:${ready.adminPort}/readyz`)).json()) as { provider: { healthy: boolean; message: string } };
      expect(body.provider.healthy).to.equal(false);
      return body;
    });
    expect(readiness.provider.message).to.contain('file error');
    // Listed in /config with its path and line, and counted in plexus_config_problems.
    const view = (await (await fetch(`http://127.0.0.1:${ready.adminPort}/config`)).json()) as { problems: { kind: string; source?: { file: string; line: number } }[] };
    const fileProblems = view.problems.filter((p) => p.kind === 'File');
    expect(fileProblems).to.have.length(1);
    expect(fileProblems[0]?.source?.file).to.match(/web\.yaml$/);
    expect(fileProblems[0]?.source?.line).to.be.greaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${ready.adminPort}/metrics`)).text();
    expect(metrics).to.match(/^plexus_config_problems\{severity="error"\} [1-9]/m);
    expect(addresses(await dnsQuery(ready.dnsPort, `web.${NS}.plexus`))).to.deep.equal([ready.vips[`${NS}/web`]]);
    expect((await httpCall({ host: ready.vips[`${NS}/web`]!, port: 8080 })).body).to.equal('web-1');
  });

  it('clears the file problem once the file parses again', async () => {
    const ready = agent!.ready;
    await folder.write('web.yaml',
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      pod({ name: 'web-1', namespace: NS, ip: WEB_IP, labels: { app: 'web' } }));
    await eventually(async () => {
      const view = (await (await fetch(`http://127.0.0.1:${ready.adminPort}/config`)).json()) as { problems: { kind: string }[] };
      expect(view.problems.filter((p) => p.kind === 'File')).to.deep.equal([]);
    });
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const running = agent!;
    agent = null;
    expect(await running.stop()).to.equal(0);
  });
});
