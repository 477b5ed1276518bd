/**
 * `plexus agent` in Kubernetes mode: kube provider → latest-wins queue → compile (previous
 * allocation read from the shadow Services) → secure mode → node agent; leader election; the
 * leader hands each config to the cluster writers (shadow Services, NetworkPolicies, Events, the
 * CoreDNS mesh block).
 * Serves until `signal` aborts, then drains: not ready and the lease released at once, listeners
 * still accepting for the drain window (kube-proxy must see the endpoint go first), then closed,
 * with in-flight requests and tunnel streams given the drain timeout.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LeaderWrites } from '../cluster/leader-writes.js';
import { allocationFromShadowServices, splitShadowServices } from '../cluster/shadow.js';
import { ApiClient } from '../kube/api-client.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { DEFAULT_LEASE_DURATION_SECONDS, LeaderElector } from '../kube/leader.js';
import { leaseHolderIdentity } from '../kube/lease-holder.js';
import type { ProviderStatus } from '../model/provider-status.js';
import type { RawObject, Snapshot } from '../model/snapshot.js';
import { KubeProvider } from '../providers/kube-provider.js';
import { Compiler } from '../routing/compile.js';
import { DEFAULT_LISTENER_PORTS } from '../routing/compile-options.js';
import type { Allocation, MeshConfig } from '../routing/mesh-config.js';
import { ownAdvertisementProblem } from '../secure/cluster/agent-peers.js';
import { AgentPods } from '../secure/cluster/agent-pods.js';
import type { KubeSecure } from '../secure/cluster/kube-secure.js';
import type { AgentOptions } from './agent-options.js';
import { LatestWins, stopRequested } from './latest-wins.js';
import { createNodeAgent } from './node-agent.js';
import type { NodeAgent } from '../node-agent/agent.js';
import { ProblemLog, problemLines } from './problem-log.js';

/**
 * Tuning not exposed as CLI flags; the environment can set it (tests use short leases). Not
 * `PLEXUS_*`: the CLI reads every `PLEXUS_<OPTION>` variable as an option and rejects unknown ones.
 */
export interface KubernetesTuning {
  readonly leaseDurationSeconds: number;
}

export function tuningFromEnv(env: NodeJS.ProcessEnv = process.env): KubernetesTuning {
  const lease = Number(env.KUBE_LEASE_DURATION_SECONDS);
  return { leaseDurationSeconds: Number.isInteger(lease) && lease > 0 ? lease : DEFAULT_LEASE_DURATION_SECONDS };
}

/** A snapshot of the cluster as the compiler takes it: user objects, the shadow Services apart. */
interface ClusterUpdate {
  /** User objects for the compiler (shadow Services excluded). */
  readonly snapshot: Snapshot;
  /** The shadow Services found in the mesh namespace: the stored port allocation. */
  readonly shadowServices: readonly RawObject[];
}

/** How long shutdown waits for the update in progress before releasing the lease and draining. */
const SHUTDOWN_WRITES_WAIT_MS = 2_000;

/**
 * Shadow Services are authoritative; the last compile fills in what no shadow holds yet. While
 * every stored port is the one the last compile gave, that allocation is handed back as it is:
 * the compiler recognises its own record and keeps its allocation (and, for an endpoint change,
 * compiles only the Services it reaches) instead of allocating 10,000 ports again.
 */
function previousAllocation(update: ClusterUpdate, last: MeshConfig | null): Allocation {
  const stored = allocationFromShadowServices(update.shadowServices);
  if (last !== null && Object.entries(stored.ports).every(([key, port]) => last.allocation.ports[key] === port)) return last.allocation;
  return { ports: { ...(last?.allocation.ports ?? {}), ...stored.ports }, vips: {} };
}

function sameObjects(a: ClusterUpdate, b: ClusterUpdate): boolean {
  const same = (x: readonly unknown[], y: readonly unknown[]): boolean => x.length === y.length && x.every((o, i) => o === y[i]);
  return same(a.snapshot.objects, b.snapshot.objects) && same(a.shadowServices, b.shadowServices);
}

export async function runKubernetesAgent(options: AgentOptions, signal: AbortSignal, tuning: KubernetesTuning = tuningFromEnv()): Promise<void> {
  const { logger } = options;
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  // Cluster writes stop with the agent: a hung API server must not hold up the drain.
  const client = new ApiClient(kubeConfig, { signal });
  const identity = leaseHolderIdentity(options.nodeName, process.env.POD_NAME ?? hostname(), process.pid);
  let secure: KubeSecure | null = null;
  const agent = createNodeAgent(options, 'kubernetes', () => secure);
  const agentPods = watchAgentPods(kubeConfig, options);
  const writes = new LeaderWrites({ client, kubeConfig, namespace: options.namespace, nodeName: options.nodeName, meshDomain: options.meshDomain, meshSecure: () => agentPods.meshSecure, logger });
  const compile = kubeCompiler(options);
  let latest: ClusterUpdate | null = null;
  let compiledFrom: ClusterUpdate | null = null;
  let markApplied: () => void = () => undefined;
  const firstApplied = new Promise<void>((resolve) => (markApplied = resolve));
  const queue = new LatestWins<ClusterUpdate>(async (update) => {
    // The same objects (by identity) compile to the same config: do not bump the generation.
    if (compiledFrom === null || !sameObjects(compiledFrom, update)) {
      const config = compile(update);
      // Certificates for new pods first, so their first call through the tunnel finds one.
      await secure?.setConfig(config);
      await agent.apply(config);
      markApplied();
    }
    compiledFrom = update;
    const last = compile.last();
    if (leader.isLeader && last !== null) await writes.write(last, update.snapshot.objects, update.shadowServices);
  }, (err) => logger.error({ err }, 'config not applied'));

  const { leader, provider } = watchCluster(options, kubeConfig, { identity, tuning }, {
    leading: (isLeader) => {
      if (isLeader) writes.reset();
      if (isLeader && latest) queue.push(latest);
    },
    update: (snapshot) => {
      const { user, shadows } = splitShadowServices(snapshot.objects, options.namespace);
      latest = { snapshot: { objects: user }, shadowServices: shadows };
      queue.push(latest);
    },
    status: (status) => agent.setProviderStatus(status),
  });
  writes.checkDnsPeriodically(() => (leader.isLeader ? compile.last() : null));
  agentPods.onSecureChange(() => {
    if (leader.isLeader && latest) queue.push(latest);
  });

  const release = async (): Promise<void> => {
    await leader.stop();
    await agent.stop();
    await secure?.stop();
    await agentPods.stop();
  };
  await checkAdvertisedMode(client, options);
  await agent.start();
  secure = await loadSecure(options, kubeConfig, agent, agentPods);
  agentPods.start();
  leader.start();
  if (!(await ownCertificate(secure, signal, logger, async () => {
    await writes.stop();
    await release();
  }))) return;
  await provider.start();
  logger.info({ adminPort: agent.adminPort, nodeName: options.nodeName, namespace: options.namespace, identity }, 'agent started');
  const aborted = stopRequested(signal);
  await Promise.race([firstApplied, aborted]);
  if (!signal.aborted) logReady(options, agent, compile.last(), secure);

  await aborted;
  await drainWindow(agent, leader, options);
  await provider.stop();
  // Writes in flight were aborted; the CoreDNS check is not waited for long.
  await Promise.race([Promise.all([queue.settled(), writes.stop()]), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WRITES_WAIT_MS).unref())]);
  await closeServing(agent, secure, options.drain.timeoutMs);
  await agentPods.stop();
  logger.info('stopped');
}

/**
 * The agent pods, watched: tunnel peers and the mesh's secure mode (the leader's NetworkPolicies
 * follow it, not this agent's mode). Its own client: still watched while draining.
 */
function watchAgentPods(kubeConfig: KubeConfig, options: AgentOptions): AgentPods {
  return new AgentPods(new ApiClient(kubeConfig), options.namespace,
    (err) => options.logger.warn({ err: err.message }, 'agent pods not readable (tunnel peers and the mesh\'s secure mode kept as last seen)'));
}

/** Secure mode is loaded only when asked for (node-forge, the tunnel, the issuer client). */
async function loadSecure(options: AgentOptions, kubeConfig: KubeConfig, agent: NodeAgent, agentPods: AgentPods): Promise<KubeSecure | null> {
  if (options.secure === null) return null;
  const { KubeSecure } = await import('../secure/cluster/kube-secure.js');
  return new KubeSecure({
    kubeConfig, namespace: options.namespace, nodeName: options.nodeName, acl: options.acl, paths: options.paths, settings: options.secure,
    logger: options.logger, registry: agent.registry, agentPods,
  });
}

function logReady(options: AgentOptions, agent: NodeAgent, config: MeshConfig | null, secure: KubeSecure | null): void {
  options.logger.info({
    adminPort: agent.adminPort, nodeName: options.nodeName, listenerPorts: config?.allocation.ports ?? {},
    ...(secure === null ? {} : { tunnelPort: secure.tunnelPort }),
  }, 'agent ready');
}

/** Not ready at once, the lease released; still serving (configs still apply: endpoints move) through the drain window. */
async function drainWindow(agent: NodeAgent, leader: LeaderElector, options: AgentOptions): Promise<void> {
  options.logger.info({ drainWindowMs: options.drain.windowMs }, 'stopping: not ready, lease released; still serving through the drain window');
  agent.startDraining();
  await leader.stop();
  await sleep(options.drain.windowMs);
  options.logger.info({ drainTimeoutMs: options.drain.timeoutMs }, 'drain window over: listeners closed, waiting for in-flight traffic');
}

/** Listeners and the tunnel stop accepting; in-flight requests and inbound streams finish together within the drain timeout. */
async function closeServing(agent: NodeAgent, secure: KubeSecure | null, drainTimeoutMs: number): Promise<void> {
  await Promise.all([agent.stop(), secure?.closeTunnel(drainTimeoutMs)]);
  await secure?.stop();
}

/**
 * The agent's mode must be the one its pod advertises (`plexus.dev/secure`), which the other
 * agents read to decide whether to tunnel to it. Not checked outside a pod (no POD_NAME).
 */
async function checkAdvertisedMode(client: ApiClient, options: AgentOptions): Promise<void> {
  const podName = process.env.POD_NAME;
  if (!podName) return;
  let problem: string | null;
  try {
    problem = await ownAdvertisementProblem(client, options.namespace, podName, options.secure !== null);
  } catch (err) {
    options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'own pod not readable: its secure-mode annotation is not checked');
    return;
  }
  if (problem !== null) throw new Error(problem);
}

/** Compiles each update, with the allocation the shadow Services hold (ports never move); logs each new problem once. */
function kubeCompiler(options: AgentOptions): ((update: ClusterUpdate) => MeshConfig) & { last(): MeshConfig | null } {
  const compiler = new Compiler();
  const problems = new ProblemLog(options.logger);
  let last: MeshConfig | null = null;
  const compile = (update: ClusterUpdate): MeshConfig => {
    const config = compiler.compile(update.snapshot, {
      nodeName: options.nodeName,
      meshDomain: options.meshDomain,
      listenerPorts: DEFAULT_LISTENER_PORTS,
      previous: previousAllocation(update, last),
    });
    last = config;
    problems.report(problemLines(config));
    return config;
  };
  return Object.assign(compile, { last: () => last });
}

/**
 * Before the first config: the agent is not ready until it holds its own certificate (from the
 * issuer Deployment, which may still be starting on a fresh install). False when asked to stop
 * meanwhile (a normal stop, not a failure), after `stopEarly`.
 */
async function ownCertificate(secure: KubeSecure | null, signal: AbortSignal, logger: Logger, stopEarly: () => Promise<void>): Promise<boolean> {
  try {
    await secure?.start(signal);
    return true;
  } catch (err) {
    await stopEarly();
    if (!signal.aborted) throw err;
    logger.info('stopped');
    return false;
  }
}

interface ClusterHooks {
  /** This agent took (true) or lost (false) the lease. */
  leading(isLeader: boolean): void;
  update(snapshot: Snapshot): void;
  status(status: ProviderStatus): void;
}

/** The leader election and the kube provider of this agent, logging what they go through. */
function watchCluster(options: AgentOptions, kubeConfig: KubeConfig, lease: { readonly identity: string; readonly tuning: KubernetesTuning }, hooks: ClusterHooks): { leader: LeaderElector; provider: KubeProvider } {
  const { logger } = options;
  const { identity } = lease;
  // Repeats every retry while the API server is away: each new failure is logged once.
  let leaderError: string | null = null;
  const leader = new LeaderElector({
    kubeConfig, namespace: options.namespace, identity, leaseDurationSeconds: lease.tuning.leaseDurationSeconds,
    onStartedLeading: () => {
      logger.info({ identity }, 'leading: writing shadow Services, Events and the CoreDNS block');
      hooks.leading(true);
    },
    onStoppedLeading: () => {
      logger.info({ identity }, 'no longer leading');
      hooks.leading(false);
    },
    onError: (err) => {
      if (err.message === leaderError) return;
      leaderError = err.message;
      logger.warn({ err: err.message }, 'leader election');
    },
  });
  const provider = new KubeProvider({
    kubeConfig, nodeName: options.nodeName, allPods: options.acl,
    onSnapshot: hooks.update,
    onStatus: (status) => {
      hooks.status(status);
      if (status.healthy) leaderError = null;
      if (status.healthy) logger.info({ status: status.message }, 'kube provider');
      else logger.warn({ status: status.message }, 'kube provider');
    },
  });
  return { leader, provider };
}
