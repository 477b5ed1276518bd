import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fake-apiserver', 'main.js');

describe('fake API server: standalone process', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('prints its address, serves the API and obeys the control port', async () => {
    child = spawn(process.execPath, [MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface(child.stdout!), 'line')) as [string];
    const address = JSON.parse(line) as { url: string; port: number; controlPort: number };
    expect(address.port).to.be.greaterThan(0);
    const kc = kubeconfigFor(address);
    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      },
    });
    expect(deployment.metadata?.generation).to.equal(1);
    const status = await apps.replaceNamespacedDeploymentStatus({ name: 'web', namespace: 'default', body: { ...deployment, status: { readyReplicas: 1 } } });
    expect(status.status?.readyReplicas).to.equal(1);
    expect(status.metadata?.generation).to.equal(1);
    const scaled = await apps.replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: { ...status, spec: { ...status.spec!, replicas: 3 } } });
    expect(scaled.metadata?.generation).to.equal(2);

    const compact = await fetch(`http://127.0.0.1:${address.controlPort}/_fake/compact`, { method: 'POST' });
    expect(compact.status).to.equal(204);
    const requests = (await (await fetch(`http://127.0.0.1:${address.controlPort}/_fake/requests`)).json()) as { method: string }[];
    expect(requests.filter((r) => r.method !== 'GET')).to.have.length(3);
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).to.include('default');
  });

  it('stops and starts on the control port, keeping the port and the data', async () => {
    child = spawn(process.execPath, [MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface(child.stdout!), 'line')) as [string];
    const address = JSON.parse(line) as { url: string; port: number; controlPort: number };
    const core = kubeconfigFor(address).makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept' }, data: { a: 'b' } } });
    const control = (action: string): Promise<Response> => fetch(`http://127.0.0.1:${address.controlPort}/_fake/${action}`, { method: 'POST' });

    expect((await control('stop')).status).to.equal(204);
    const refused = await fetch(`${address.url}/version`).then(() => null, (err: unknown) => err);
    expect(refused, 'the API port is closed while stopped').to.be.instanceOf(Error);
    expect((await control('start')).status).to.equal(204);
    expect((await core.readNamespacedConfigMap({ name: 'kept', namespace: 'default' })).data).to.deep.equal({ a: 'b' });
    expect((await control('restart')).status).to.equal(204);
    expect((await core.readNamespacedConfigMap({ name: 'kept', namespace: 'default' })).data).to.deep.equal({ a: 'b' });
    expect((await control('nonsense')).status).to.equal(404);
  });
});
