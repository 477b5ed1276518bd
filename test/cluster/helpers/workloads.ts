/**
 * Test workloads: backend Deployments (pod-scripts/backend.ts), client pods (the tools image,
 * `sleep`), Services, and what a client pod does: curl, dig, nc, and a bounded load
 * (pod-scripts/load.ts). Object builders return plain JSON for `kubectl apply`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCluster } from './cluster.js';
import { until } from './cluster.js';

const SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'pod-scripts');
const SCRIPTS_CONFIGMAP = 'plexus-test-scripts';

type Json = Record<string, unknown>;

export function namespace(name: string, annotations: Record<string, string> = {}): Json {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } };
}

/** The pod scripts, compiled, as a ConfigMap of `.mjs` files. */
export function scriptsConfigMap(ns: string): Json {
  const data = Object.fromEntries(['backend', 'load'].map((name) => [`${name}.mjs`, readFileSync(join(SCRIPTS, `${name}.js`), 'utf8')]));
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SCRIPTS_CONFIGMAP, namespace: ns }, data };
}

export function serviceAccount(ns: string, name: string): Json {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } };
}

function podSpec(cluster: TestCluster, serviceAccountName: string, command: string[], env: Json[], probe: Json = {}): Json {
  return {
    serviceAccountName,
    terminationGracePeriodSeconds: 2,
    containers: [{
      name: 'main', image: cluster.target.toolsImage, imagePullPolicy: 'IfNotPresent', command, env,
      volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }],
      ...probe,
    }],
    volumes: [{ name: 'scripts', configMap: { name: SCRIPTS_CONFIGMAP } }],
  };
}

export interface BackendOptions {
  readonly labels: Record<string, string>;
  readonly replicas?: number;
  /** Every Nth request of each pod is a 503 (0: never). */
  readonly failEvery?: number;
  readonly serviceAccount?: string;
}

/** A Deployment of backend pods: HTTP 8080 (answers the pod name), TCP echo 9000, UDP 9053. */
export function backend(cluster: TestCluster, ns: string, name: string, options: BackendOptions): Json {
  const env = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'FAIL_EVERY', value: String(options.failEvery ?? 0) },
  ];
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: options.labels },
      template: {
        metadata: { labels: options.labels },
        // Ready once it answers: traffic is meant to reach only pods that serve.
        spec: podSpec(cluster, options.serviceAccount ?? 'default', ['node', '/scripts/backend.mjs'], env, {
          readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
        }),
      },
    },
  };
}

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol?: 'TCP' | 'UDP';
}

export function service(ns: string, name: string, selector: Record<string, string>, ports: readonly ServicePort[], annotations: Record<string, string> = {}): Json {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, annotations },
    spec: { selector, ports: ports.map((p) => ({ protocol: 'TCP', ...p })) },
  };
}

/** A pod that runs nothing but waits to be exec'd into, as ServiceAccount `sa`. */
export function clientPod(cluster: TestCluster, ns: string, name: string, sa: string): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { role: 'client' } }, spec: podSpec(cluster, sa, ['sleep', 'infinity'], []) };
}

/** `kubectl apply` of every object as one List. */
export async function applyAll(cluster: TestCluster, objects: readonly Json[]): Promise<void> {
  await cluster.kubectl.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

/** Waits until every pod of `selector` in `ns` is Ready (and there is at least one). */
export async function podsReady(cluster: TestCluster, ns: string, selector: string, timeoutMs = 240_000): Promise<void> {
  // `kubectl wait` fails at once while no pod matches yet (just applied): asked again until then.
  await until(`pods ${selector} in ${ns} to be ready`, async () => {
    await cluster.kubectl.ok(['wait', '-n', ns, '--for=condition=Ready', 'pod', '-l', selector, '--timeout=60s'], { timeoutMs: 70_000 });
    return true;
  }, timeoutMs);
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** What a command run in a client pod printed; fails when it could not run there. */
export class ClientPod {
  constructor(readonly cluster: TestCluster, readonly ns: string, readonly name: string) {}

  async exec(command: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return this.cluster.kubectl.run(['exec', '-n', this.ns, this.name, '--', ...command], { timeoutMs });
  }

  /** One HTTP GET with curl (5 s); status 0 when curl got no answer (its error in `body`). */
  async get(url: string): Promise<Answer> {
    const out = await this.exec(['curl', '-sS', '-m', '5', '-w', '\n%{http_code}', url]);
    const lines = out.stdout.trimEnd().split('\n');
    const status = Number(lines.pop() ?? '0');
    return status === 0 ? { status, body: out.stderr.trim() } : { status, body: lines.join('\n').trim() };
  }

  /** `dig +short` of `name` (A records), in the pod, with its cluster DNS. */
  async resolve(name: string): Promise<string[]> {
    const out = await this.exec(['dig', '+short', '+time=2', '+tries=1', name, 'A']);
    return out.stdout.split('\n').map((line) => line.trim()).filter((line) => /^\d+\.\d+\.\d+\.\d+$/.test(line));
  }

  /** Sends `text` over TCP with nc and returns what came back (nc closes its side at EOF). */
  async tcp(host: string, port: number, text: string): Promise<string> {
    return (await this.exec(['sh', '-c', `printf '%s' "$0" | nc -N -w 5 "$1" "$2"`, text, host, String(port)])).stdout;
  }

  /** One UDP datagram with nc; returns the first answer (waits up to 3 s). */
  async udp(host: string, port: number, text: string): Promise<string> {
    return (await this.exec(['sh', '-c', `printf '%s' "$0" | nc -u -w 3 "$1" "$2"`, text, host, String(port)])).stdout;
  }

  /** Sequential GETs (bounded: `count` requests, 60 s); the load summary. */
  count(url: string, count: number): Promise<LoadResult> {
    return this.load(url, { maxRequests: count, maxSeconds: 60, concurrency: 1 }).result;
  }

  /** A bounded load in the pod: stops at `maxRequests`, after `maxSeconds`, or at `stop()`. */
  load(url: string, options: LoadOptions): Load {
    const stopFile = `/tmp/stop-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const args = ['exec', '-n', this.ns, this.name, '--', 'node', '/scripts/load.mjs', url,
      String(options.maxRequests), String(options.maxSeconds), String(options.concurrency), stopFile, options.newConnections === true ? 'new' : 'keep-alive'];
    const result = new Promise<LoadResult>((resolve, reject) => {
      const child = spawn(this.cluster.kubectl.command, ['--kubeconfig', this.cluster.kubectl.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      child.on('error', reject);
      child.on('close', (code) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (code !== 0 || !line.startsWith('{')) reject(new Error(`load in ${this.name} exited ${code}: ${stderr.trim() || stdout.trim()}`));
        else resolve(JSON.parse(line) as LoadResult);
      });
    });
    return {
      result,
      stop: async () => {
        await this.exec(['touch', stopFile]);
        return result;
      },
    };
  }
}

/**
 * The request bound of a load meant to run until the test stops it: `seconds` at 5,000 requests a
 * second, more than one client pod reaches here, so the time bound ends it first. A count sized
 * to today's speed ran out before the test ended once the secure tunnel got 3-4x faster.
 */
export function requestsFor(seconds: number): number {
  return seconds * 5_000;
}

export interface LoadOptions {
  readonly maxRequests: number;
  readonly maxSeconds: number;
  readonly concurrency: number;
  /** A new connection per request (default: keep-alive connections, reused). */
  readonly newConnections?: boolean;
}

export interface LoadResult {
  readonly sent: number;
  readonly statuses: Record<string, number>;
  readonly answeredBy: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly firstFailures: string[];
  readonly stopped: boolean;
}

export interface Load {
  readonly result: Promise<LoadResult>;
  /** Asks the load to stop now and returns its summary. */
  stop(): Promise<LoadResult>;
}

/** Requests that got no 2xx-4xx answer (5xx or no answer at all). */
export function failures(result: LoadResult): number {
  return Object.values(result.errors).reduce((sum, n) => sum + n, 0);
}

/** Waits until a GET of `url` from `pod` answers `accept` (the state meant, not a moment of it). */
export function answering(pod: ClientPod, url: string, accept: (answer: Answer) => boolean, what: string, timeoutMs?: number): Promise<Answer> {
  return until(what, async () => {
    const answer = await pod.get(url);
    if (!accept(answer)) throw new Error(`${url}: ${answer.status} ${answer.body}`);
    return answer;
  }, timeoutMs);
}
