/**
 * Big manifests with the real agent: a ~10 MB file of ~130k objects is parsed off the thread
 * that serves traffic (requests are answered while the agent says it is loading the file), does
 * not overflow the stack, and later changes to the folder still apply. A file over the size
 * limit is a located problem, in the agent and in `plexus config` alike.
 */
import { open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { httpBackend, httpCall, type Backend } from './helpers/backends.js';
import { manifestFolder, namespace, pod, service, type ManifestFolder } from './helpers/manifests.js';
import { eventually, runPlexus, startAgent, waitForConfig, type RunningAgent } from './helpers/plexus.js';

const NS = 'bigtest';
const WEB_IP = '127.0.68.1';
const API_IP = '127.0.68.2';
const OBJECTS = 130_000;
/** Requests answered while the big file loads, each one seen to end before the loading did. */
const ANSWERED_WHILE_LOADING = 3;
const MAX_REQUESTS = 10_000;
const MAX_LOAD_MS = 240_000;

interface Readyz {
  readonly generation: number;
  readonly provider: { readonly message: string } | null;
}

/** Writes OBJECTS ConfigMaps (a kind the agent ignores: the compile stays cheap) as one multi-document file. */
async function writeBigFile(path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    const batch: string[] = [];
    for (let i = 0; i < OBJECTS; i++) {
      batch.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings-${i}, namespace: ${NS}}\n---\n`);
      if (batch.length === 10_000) await file.write(batch.splice(0).join(''));
    }
    await file.write(batch.join(''));
  } finally {
    await file.close();
  }
}

describe('local mode: a big manifest file (real agent)', function () {
  this.timeout(MAX_LOAD_MS + 60_000);
  let folder: ManifestFolder;
  let agent: RunningAgent | null = null;
  const backends: Backend[] = [];

  before(async () => {
    folder = await manifestFolder();
    await folder.write('web.yaml', namespace(NS),
      service({ name: 'web', namespace: NS, port: 8080, selector: { app: 'web' } }),
      pod({ name: 'web-1', namespace: NS, ip: WEB_IP, labels: { app: 'web' } }));
    backends.push(await httpBackend('web-1', WEB_IP, 8080), await httpBackend('api-1', API_IP, 8080));
    agent = await startAgent(['--manifests', folder.dir, '--vip-cidr', '127.168.0.0/24', '--dns-port', '0']);
  });

  after(async () => {
    await agent?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await folder.dispose();
  });

  async function readyz(): Promise<Readyz> {
    return (await (await fetch(`http://127.0.0.1:${agent!.ready.adminPort}/readyz`)).json()) as Readyz;
  }

  it('keeps answering requests while it loads ~130k objects in one 10 MB file, and applies later changes', async () => {
    const big = join(folder.dir, 'big.yaml');
    // Written next to the folder first, then moved in: the agent sees the whole file at once.
    const staged = `${folder.dir}.big.yaml`;
    await writeBigFile(staged);
    expect((await stat(staged)).size).to.be.greaterThan(10_000_000);
    const before = await readyz();
    await rename(staged, big);

    const vip = agent!.ready.vips[`${NS}/web`]!;
    const deadline = Date.now() + MAX_LOAD_MS;
    let answeredWhileLoading = 0;
    let sawLoading = false;
    for (let sent = 0; sent < MAX_REQUESTS && Date.now() < deadline; sent++) {
      const loading = (await readyz()).provider?.message.includes(`loading ${big}`) === true;
      if (!loading && sawLoading) break;
      if (!loading) continue;
      sawLoading = true;
      const reply = await httpCall({ host: vip, port: 8080 });
      expect(reply.status).to.equal(200);
      // Still loading after the answer came: the request was served while the file was parsed.
      if ((await readyz()).provider?.message.includes(`loading ${big}`) === true) answeredWhileLoading++;
      if (answeredWhileLoading >= ANSWERED_WHILE_LOADING) break;
    }
    expect(sawLoading, 'the agent said it was loading the big file').to.equal(true);
    expect(answeredWhileLoading).to.be.at.least(ANSWERED_WHILE_LOADING);

    // The big file is applied (a new generation), and a change after it applies too.
    await eventually(async () => expect((await readyz()).generation).to.be.greaterThan(before.generation), MAX_LOAD_MS);
    await folder.write('api.yaml',
      service({ name: 'api', namespace: NS, port: 8080, selector: { app: 'api' } }),
      pod({ name: 'api-1', namespace: NS, ip: API_IP, labels: { app: 'api' } }));
    const view = await waitForConfig(agent!.ready.adminPort, (v) => v.config.services.some((s) => s.key === `${NS}/api`), 120_000);
    const apiVip = view.config.services.find((s) => s.key === `${NS}/api`)!.vip!;
    expect((await eventually(() => httpCall({ host: apiVip, port: 8080 }))).body).to.equal('api-1');
    expect((await httpCall({ host: vip, port: 8080 })).body).to.equal('web-1');
  });
});

describe('manifest files over the size limit', () => {
  it('are a located problem in plexus config, which reads them as the agent does', async () => {
    const folder = await manifestFolder();
    try {
      const path = join(folder.dir, 'huge.yaml');
      const file = await open(path, 'w');
      // Sparse: 33 MiB of nothing, written in no time.
      await file.truncate(33 * 1024 * 1024);
      await file.close();
      const result = await runPlexus(['config', '--manifests', folder.dir]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain(`${path}:1: the file has ${33 * 1024 * 1024} bytes; manifest files are read up to 33554432 bytes (32 MiB): split it into several files`);
    } finally {
      await folder.dispose();
    }
  });
});
