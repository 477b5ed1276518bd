import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { LeaderElector } from '../../../src/kube/leader.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { eventually } from '../fake-apiserver/support.js';

const ELECTOR_PROCESS = join(dirname(fileURLToPath(import.meta.url)), 'elector-process.js');

describe('leader election', () => {
  let server: FakeApiServer;
  let electors: LeaderElector[];
  const transitions: string[] = [];

  function elector(identity: string): LeaderElector {
    const e = new LeaderElector({
      kubeConfig: kubeconfigFor(server),
      namespace: 'plexus',
      identity,
      leaseDurationSeconds: 1,
      renewIntervalMs: 100,
      onStartedLeading: () => transitions.push(`${identity} leads`),
      onStoppedLeading: () => transitions.push(`${identity} stops`),
    });
    electors.push(e);
    e.start();
    return e;
  }

  beforeEach(async () => {
    server = new FakeApiServer();
    await server.start();
    await kubeconfigFor(server).makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'plexus' } } });
    electors = [];
    transitions.length = 0;
  });
  afterEach(async () => {
    await Promise.all(electors.map((e) => e.stop()));
    await server.stop();
  });

  async function holder(): Promise<string | null> {
    const res = await fetch(`${server.url}/apis/coordination.k8s.io/v1/namespaces/plexus/leases/plexus-leader`);
    if (res.status !== 200) return null;
    return ((await res.json()) as { spec: { holderIdentity?: string | null } }).spec.holderIdentity ?? null;
  }

  it('elects exactly one leader, and hands over on release', async () => {
    const a = elector('agent-a');
    const b = elector('agent-b');
    const first = await eventually(() => (a.isLeader !== b.isLeader ? (a.isLeader ? a : b) : undefined));
    const second = first === a ? b : a;
    expect(await holder()).to.equal(first === a ? 'agent-a' : 'agent-b');
    // Both keep running a few rounds: never two leaders.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(a.isLeader && b.isLeader).to.equal(false);
    }
    await first.stop();
    expect(first.isLeader).to.equal(false);
    await eventually(() => (second.isLeader ? true : undefined));
    const [firstName, secondName] = first === a ? ['agent-a', 'agent-b'] : ['agent-b', 'agent-a'];
    expect(await holder()).to.equal(secondName);
    expect(transitions).to.include.members([`${firstName} leads`, `${firstName} stops`, `${secondName} leads`]);
  });

  it('takes over after the lease duration when the leader dies without releasing', async () => {
    const child = spawn(process.execPath, [ELECTOR_PROCESS, server.url, 'agent-a'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface(child.stdout!), 'line')) as [string];
      expect(line).to.equal('leading');
      const b = elector('agent-b');
      child.kill('SIGKILL');
      await once(child, 'exit');
      expect(await holder()).to.equal('agent-a');
      await eventually(() => (b.isLeader ? true : undefined), 10_000, 'takeover');
      expect(await holder()).to.equal('agent-b');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  });

  it('steps down when it cannot renew, and leads again once the server is back', async () => {
    const a = elector('agent-a');
    await eventually(() => (a.isLeader ? true : undefined));
    await server.stop();
    await eventually(() => (a.isLeader ? undefined : true), 10_000, 'step down');
    await server.start();
    await eventually(() => (a.isLeader ? true : undefined), 10_000, 'lead again');
  });

  it('a hung API server does not stall the loop: the leader steps down, leads again after it answers, and stop() does not wait for it', async () => {
    const a = elector('agent-a');
    await eventually(() => (a.isLeader ? true : undefined));
    server.freeze();
    await eventually(() => (a.isLeader ? undefined : true), 10_000, 'step down');
    // Held requests answered late are stale (their rounds were abandoned); new rounds lead again.
    server.thaw();
    await eventually(() => (a.isLeader ? true : undefined), 10_000, 'lead again');
    server.freeze();
    try {
      await a.stop();
    } finally {
      server.thaw();
    }
    electors.splice(electors.indexOf(a), 1);
  });
});

