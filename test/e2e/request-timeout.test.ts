/** The real agent's mesh-wide default timeout (`--request-timeout`): a stalled endpoint gets 504. */
import { createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { httpCall } from './helpers/backends.js';
import { manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { runPlexus, startAgent, type RunningAgent } from './helpers/plexus.js';

const NS = 'timeouttest';
const STALLED_IP = '127.0.67.1';

describe('local mode: the default request timeout (real agent)', () => {
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  let stalled: Server;
  const sockets: Socket[] = [];

  before(async () => {
    // Takes connections and requests, and never answers.
    stalled = createServer((socket) => { sockets.push(socket); });
    await new Promise<void>((resolve) => stalled.listen(8080, STALLED_IP, resolve));
    folder = await manifestFolder();
    await folder.write('shop.yaml', namespace(NS),
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      pod({ name: 'web-1', namespace: NS, ip: STALLED_IP, labels: { app: 'web' } }));
    agent = await startAgent(['--manifests', folder.dir, '--vip-cidr', '127.167.0.0/24', '--dns-port', '0', '--request-timeout', '300ms']);
  });

  after(async () => {
    await agent?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => stalled.close(() => resolve()));
    await folder.dispose();
  });

  it('answers 504 for a Service without plexus.dev/timeout whose endpoint never answers', async () => {
    const vip = agent!.ready.vips[`${NS}/web`]!;
    const result = await httpCall({ host: vip, port: 8080, path: '/' });
    expect(result.status).to.equal(504);
    expect(result.body).to.equal(`upstream timeout: ${NS}/web did not answer within 300 ms; the request was aborted upstream\n`);
  });

  it('refuses a value that is not a duration, from the flag or the environment', async () => {
    const flag = await runPlexus(['agent', '--manifests', folder.dir, '--request-timeout', 'soon']);
    expect(flag.code).to.equal(2);
    expect(flag.stderr).to.contain('--request-timeout: "soon" is not a duration such as "15s"');
    const env = await runPlexus(['agent', '--manifests', folder.dir], 60_000, { PLEXUS_REQUEST_TIMEOUT: '15' });
    expect(env.code).to.equal(2);
    expect(env.stderr).to.contain('--request-timeout: "15" is not a duration');
  });
});
