/**
 * convergence suite: a local-mode agent serves a folder; the suite writes manifest changes to it
 * (a TrafficSplit weight flip, an endpoint added, an endpoint removed) and, for each, times the
 * write to the first response that only the new config could have produced. Backends answer
 * with their name, so every response shows which config routed it.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAgent } from '../lib/agent.js';
import { endpointSlice, namespace, service, trafficSplit, toYaml, type Manifest } from '../lib/manifests.js';
import { httpGet } from '../lib/net.js';
import { startNamedBackends } from '../lib/peers.js';
import type { CoreLayout } from '../lib/processes.js';
import { num, type GoalCheck, type SuiteReport, type Table } from '../lib/report.js';
import { distribution, median } from '../lib/stats.js';

export interface ConvergenceSuiteOptions {
  readonly changes: number;
  readonly layout: CoreLayout;
  readonly workDir: string;
}

const NS = 'conv';
const PORT = 8080;
const OBSERVE_TIMEOUT_MS = 5000;
const BACKENDS = ['b0', 'b1', 'b2', 'b3'].map((name, i) => ({ name, host: `127.0.30.${i + 1}` }));
const [B0, B1, B2, B3] = BACKENDS as [typeof BACKENDS[0], typeof BACKENDS[0], typeof BACKENDS[0], typeof BACKENDS[0]];

const KINDS = ['weight', 'endpoint added', 'endpoint removed'] as const;
type Kind = typeof KINDS[number];

interface Change {
  readonly kind: Kind;
  /** Null when no response showed the new config within the timeout. */
  readonly ms: number | null;
  readonly requests: number;
}

function staticObjects(port: number): Manifest[] {
  const withSlice = (name: string, hosts: readonly string[]): Manifest[] => [
    service(NS, name, { port: PORT, targetPort: port }),
    endpointSlice(NS, name, `${name}-1`, port, hosts),
  ];
  return [namespace(NS), ...withSlice('weighted', [B0.host]), ...withSlice('wa', [B0.host]), ...withSlice('wb', [B1.host]), service(NS, 'pool', { port: PORT, targetPort: port })];
}

function splitFile(toB: boolean): Manifest[] {
  return [trafficSplit(NS, 'weighted', 'weighted', [{ service: 'wa', weight: toB ? 0 : 100 }, { service: 'wb', weight: toB ? 100 : 0 }])];
}

function poolFile(port: number, hosts: readonly string[]): Manifest[] {
  return [endpointSlice(NS, 'pool', 'pool-1', port, hosts)];
}

/** Replaces `name` in `dir` at once (temp file + rename), as editors and `kubectl`-style tools do. */
function replaceFile(dir: string, name: string, objects: readonly Manifest[]): void {
  writeFileSync(join(dir, '.next'), toYaml(objects));
  renameSync(join(dir, '.next'), join(dir, name));
}

export async function runConvergenceSuite(options: ConvergenceSuiteOptions): Promise<SuiteReport> {
  const { layout, workDir } = options;
  const dir = join(workDir, 'manifests');
  mkdirSync(dir, { recursive: true });
  const backends = await startNamedBackends(BACKENDS, layout.loadCpu);
  const client = new Agent({ keepAlive: true, maxSockets: 1 });
  const changes: Change[] = [];
  let failed = 0;
  let commandLine = '';
  try {
    writeFileSync(join(dir, 'static.yaml'), toYaml(staticObjects(backends.port)));
    replaceFile(dir, 'split.yaml', splitFile(false));
    replaceFile(dir, 'pool.yaml', poolFile(backends.port, [B2.host]));
    const agent = await startAgent({ manifestsDir: dir, vipCidr: '127.202.0.0/24', acl: false, cpu: layout.proxyCpu, readyTimeoutMs: 30_000 });
    commandLine = agent.commandLine;
    try {
      const url = (name: string): string => `http://${agent.vips[`${NS}/${name}`]}:${PORT}/`;
      const ask = async (name: string): Promise<string> => {
        const answer = await httpGet(url(name), { agent: client }).catch(() => null);
        if (answer?.status !== 200) {
          failed++;
          return '';
        }
        return answer.body;
      };
      if (await ask('weighted') !== B0.name || await ask('pool') !== B2.name) throw new Error('the agent does not route as the initial manifests say');

      let towardB = false;
      for (let n = 0; n < options.changes; n++) {
        const kind = KINDS[n % KINDS.length] as Kind;
        // What to ask, and a test that accepts only what the new config can produce: after an
        // endpoint is removed, round-robin over [b2, b3] never answers b2 twice in a row.
        let target: string;
        let observed: (answers: readonly string[]) => boolean;
        const began = performance.now();
        if (kind === 'weight') {
          towardB = !towardB;
          const winner = towardB ? B1.name : B0.name;
          replaceFile(dir, 'split.yaml', splitFile(towardB));
          target = 'weighted';
          observed = (answers) => answers[answers.length - 1] === winner;
        } else if (kind === 'endpoint added') {
          replaceFile(dir, 'pool.yaml', poolFile(backends.port, [B2.host, B3.host]));
          target = 'pool';
          observed = (answers) => answers[answers.length - 1] === B3.name;
        } else {
          replaceFile(dir, 'pool.yaml', poolFile(backends.port, [B2.host]));
          target = 'pool';
          observed = (answers) => answers.length >= 2 && answers[answers.length - 1] === B2.name && answers[answers.length - 2] === B2.name;
        }
        const answers: string[] = [];
        let ms: number | null = null;
        while (performance.now() - began < OBSERVE_TIMEOUT_MS) {
          answers.push(await ask(target));
          if (observed(answers)) {
            ms = performance.now() - began;
            break;
          }
        }
        changes.push({ kind, ms, requests: answers.length });
        // A pause of 100-300 ms, so changes do not line up with the provider's periodic rescan.
        await sleep(100 + Math.random() * 200);
      }
    } finally {
      await agent.process.stop();
    }
  } finally {
    client.destroy();
    await backends.process.stop();
  }

  const row = (label: string, list: readonly Change[]): string[] => {
    const times = list.map((c) => c.ms).filter((ms): ms is number => ms !== null);
    const d = distribution(times);
    return [label, num(list.length), num(d.p50), num(d.p99), num(d.max), num(list.length - times.length), num(median(list.map((c) => c.requests)))];
  };
  const table: Table = {
    title: `Convergence: manifest write → first response routed by the new config (${options.changes} changes, local mode)`,
    columns: ['change', 'count', 'p50 ms', 'p99 ms', 'max ms', `not seen in ${OBSERVE_TIMEOUT_MS / 1000} s`, 'requests per change (median)'],
    rows: [...KINDS.map((kind) => row(kind, changes.filter((c) => c.kind === kind))), row('all', changes)],
  };
  const all = distribution(changes.map((c) => c.ms).filter((ms): ms is number => ms !== null));
  const timeouts = changes.filter((c) => c.ms === null).length;
  const goals: GoalCheck[] = [{
    goal: 'convergence p99 < 1 s (local mode)',
    measured: `${num(all.p99)} ms${timeouts > 0 ? `, ${timeouts} not seen in ${OBSERVE_TIMEOUT_MS / 1000} s` : ''}`,
    met: all.p99 === null ? null : all.p99 < 1000 && timeouts === 0,
  }];
  return {
    suite: 'convergence',
    notes: [
      `pinning: agent on ${layout.pinned ? `cpu${layout.proxyCpu}` : 'any core'}; backends (node:http, one process) and the client on ${layout.pinned ? `cpu${layout.loadCpu}` : 'any core'}`,
      `agent: ${commandLine}`,
      'each change replaces one file (temp file + rename); the client sends back-to-back keep-alive GETs until a response could only come from the new config: the new split winner, the added endpoint, or (removal) the remaining endpoint twice in a row, which round-robin over two endpoints never does. The time is taken when that response arrives (an upper bound by one request).',
      `requests that failed during the changes: ${failed}`,
    ],
    tables: [table],
    goals,
    data: { changes, failed },
  };
}
