/**
 * `plexus agent` in Kubernetes mode: kube provider → compile (previous allocation read from the
 * shadow Services) → node agent; leader election; the leader writes shadow Services and Events
 * and keeps the CoreDNS mesh block current.
 * Serves until `signal` aborts, then releases the lease and drains.
 */
import { hostname } from 'node:os';
import type { AgentOptions } from './agent-options.js';
import { NodeAgent } from '../node-agent/agent.js';
import { Compiler } from '../routing/compile.js';
import type { Allocation, MeshConfig } from '../routing/mesh-config.js';
import { formatProblem, problem, type Problem } from '../model/problem.js';
import { DEFAULT_LISTENER_PORTS } from '../routing/compile-options.js';
import type { KubeSecure } from '../secure/cluster/kube-secure.js';
import { desiredNetworkPolicies } from '../secure/cluster/network-policies.js';
import { NetworkPolicyWriter } from '../secure/cluster/network-policy-writer.js';
import { ApiClient } from '../kube/api-client.js';
import { DNS_CHECK_INTERVAL_MS, DnsKeeper } from '../cluster/dns-keeper.js';
import { EventRecorder } from '../cluster/events.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { DEFAULT_LEASE_DURATION_SECONDS, LeaderElector } from '../kube/leader.js';
import { leaseHolderIdentity } from '../kube/lease-holder.js';
import { KubeProvider, type ProviderUpdate } from '../providers/kube-provider.js';
import { allocationFromShadowServices, planShadowServices, ShadowServiceWriter } from '../cluster/shadow.js';
import { RouteStatusWriter } from '../cluster/route-status.js';

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

/** How long shutdown waits for the update in progress before releasing the lease and draining. */
const SHUTDOWN_WRITES_WAIT_MS = 2_000;

/** Shadow Services are authoritative; the last compile fills in what no shadow holds yet. */
function previousAllocation(update: ProviderUpdate, last: MeshConfig | null): Allocation {
  const stored = allocationFromShadowServices(update.shadowServices);
  return { ports: { ...(last?.allocation.ports ?? {}), ...stored.ports }, vips: {} };
}

function sameObjects(a: ProviderUpdate, b: ProviderUpdate): boolean {
  const same = (x: readonly unknown[], y: readonly unknown[]): boolean => x.length === y.length && x.every((o, i) => o === y[i]);
  return same(a.snapshot.objects, b.snapshot.objects) && same(a.shadowServices, b.shadowServices);
}

export async function runKubernetesAgent(options: AgentOptions, signal: AbortSignal, tuning: KubernetesTuning = tuningFromEnv()): Promise<void> {
  const { logger } = options;
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  // Cluster writes stop with the agent: a hung API server must not hold up the drain.
  const client = new ApiClient(kubeConfig, { signal });
  const identity = leaseHolderIdentity(options.nodeName, process.env.POD_NAME ?? hostname(), process.pid);
  // Secure mode is loaded only when asked for (node-forge, the tunnel, the issuer).
  let secure: KubeSecure | null = null;
  const agent = new NodeAgent({
    mode: 'kubernetes',
    listenAddress: options.listenAddress,
    acl: options.acl,
    adminAddress: options.adminAddress,
    adminPort: options.adminPort,
    logger,
    accessLog: options.accessLog,
    tapTokenFile: options.tapTokenFile,
    httpPaths: options.paths,
    httpLimits: { requestTimeoutMs: options.requestTimeoutMs },
    ...(options.secure === null ? {} : {
      dialer: (endpoint, source, port) => secure === null
        ? { kind: 'refused', reason: 'secure mode is starting' }
        : secure.dialer(endpoint, source, port),
      secureView: () => secure?.view() ?? { starting: true },
    }),
  });
  const compiler = new Compiler();
  const writer = new ShadowServiceWriter(client, options.namespace);
  const recorder = new EventRecorder(client, options.nodeName);
  const routeStatus = new RouteStatusWriter(client);
  // Secure mode's NetworkPolicies; without --secure the leader removes any it wrote before.
  const policies = new NetworkPolicyWriter(client);
  const dns = new DnsKeeper({ kubeConfig, namespace: options.namespace, meshDomain: options.meshDomain, logger });
  let last: MeshConfig | null = null;
  let latest: ProviderUpdate | null = null;
  let reported = new Set<string>();
  let leaderError: string | null = null;
  let markApplied: () => void = () => undefined;
  const firstApplied = new Promise<void>((resolve) => (markApplied = resolve));
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

  const writeClusterState = async (update: ProviderUpdate, config: MeshConfig): Promise<void> => {
    const failures = await writer.apply(planShadowServices(config, update.shadowServices, options.namespace));
    const writeProblems: Problem[] = failures.map((f) => problem({ kind: 'Service', namespace: f.service.namespace, name: f.service.name }, f.message));
    for (const p of writeProblems) logger.warn({ problem: formatProblem(p) }, 'shadow Service not written');
    const policyFailures = await policies.keep(options.secure === null ? [] : desiredNetworkPolicies(config, update.snapshot.objects, options.namespace))
      .catch((err: unknown) => {
        // Never in the way of the Events and the CoreDNS block; retried on the next update.
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'NetworkPolicies not listed');
        return [];
      });
    for (const f of policyFailures) {
      const p = problem({ kind: 'Service', namespace: f.service.namespace, name: f.service.name }, f.message);
      logger.warn({ problem: formatProblem(p) }, 'NetworkPolicy not written');
      writeProblems.push(p);
    }
    for (const f of await routeStatus.write(config, update.snapshot.objects)) {
      const [kind = 'HTTPRoute', key = ''] = f.route.split(' ');
      const p = problem({ kind, namespace: key.split('/')[0] ?? '', name: key.split('/')[1] ?? '' }, f.message);
      logger.warn({ problem: formatProblem(p) }, 'route status not written');
      writeProblems.push(p);
    }
    await recorder.report([...config.problems, ...writeProblems], update.snapshot.objects);
    keepDns(config);
  };

  // The CoreDNS check runs beside the update queue, one at a time: a hung call waits out its 30 s
  // timeout (several calls in one check), and must not hold up the configs behind it.
  // One skipped while another runs is made by the next update or the periodic check.
  let dnsRunning: Promise<void> | null = null;
  const keepDns = (config: MeshConfig): void => {
    dnsRunning ??= dns.keep(config).finally(() => {
      dnsRunning = null;
    });
  };

  let compiledFrom: ProviderUpdate | null = null;
  const applyUpdate = async (update: ProviderUpdate): Promise<void> => {
    // The same objects (by identity) compile to the same config: do not bump the generation.
    if (compiledFrom === null || !sameObjects(compiledFrom, update)) await compileAndApply(update);
    compiledFrom = update;
    if (leader.isLeader && last !== null) await writeClusterState(update, last);
  };

  const compileAndApply = async (update: ProviderUpdate): Promise<void> => {
    const config = compiler.compile(update.snapshot, {
      nodeName: options.nodeName,
      meshDomain: options.meshDomain,
      listenerPorts: DEFAULT_LISTENER_PORTS,
      previous: previousAllocation(update, last),
    });
    last = config;
    const current = new Set(config.problems.map((p) => `${p.severity}: ${formatProblem(p)}`));
    for (const line of current) if (!reported.has(line)) logger.warn({ problem: line }, 'config problem');
    reported = current;
    // Certificates for new pods first, so their first call through the tunnel finds one.
    await secure?.setConfig(config);
    await agent.apply(config);
    markApplied();
  };

  // One update at a time; while one is processed only the newest waiting one is kept.
  let processing: Promise<void> = Promise.resolve();
  let waiting = false;
  const enqueue = (): void => {
    if (waiting) return;
    waiting = true;
    processing = processing.then(async () => {
      waiting = false;
      if (latest) await applyUpdate(latest).catch((err: unknown) => logger.error({ err }, 'config not applied'));
    });
  };

  const leader = new LeaderElector({
    kubeConfig,
    namespace: options.namespace,
    identity,
    leaseDurationSeconds: tuning.leaseDurationSeconds,
    onStartedLeading: () => {
      logger.info({ identity }, 'leading: writing shadow Services, Events and the CoreDNS block');
      dns.reset();
      policies.reset();
      secure?.setLeading(true);
      enqueue();
    },
    onStoppedLeading: () => {
      logger.info({ identity }, 'no longer leading');
      secure?.setLeading(false);
    },
    onError: (err) => {
      // Repeats every retry while the API server is away: each new failure is logged once.
      if (err.message === leaderError) return;
      leaderError = err.message;
      logger.warn({ err: err.message }, 'leader election');
    },
  });
  const provider = new KubeProvider({
    kubeConfig,
    namespace: options.namespace,
    nodeName: options.nodeName,
    allPods: options.acl,
    onUpdate: (update) => {
      latest = update;
      enqueue();
    },
    onStatus: (status) => {
      agent.setProviderStatus(status);
      if (status.healthy) leaderError = null;
      if (status.healthy) logger.info({ status: status.message }, 'kube provider');
      else logger.warn({ status: status.message }, 'kube provider');
    },
  });

  // A quiet cluster brings no updates: the leader still re-checks CoreDNS periodically.
  const dnsCheck = setInterval(() => {
    if (!leader.isLeader || last === null) return;
    const config = last;
    keepDns(config);
  }, DNS_CHECK_INTERVAL_MS);
  dnsCheck.unref();

  await agent.start();
  if (options.secure !== null) {
    const { KubeSecure } = await import('../secure/cluster/kube-secure.js');
    secure = new KubeSecure({ kubeConfig, namespace: options.namespace, nodeName: options.nodeName, acl: options.acl, settings: options.secure, logger, registry: agent.registry });
  }
  leader.start();
  // Before the first config: the agent is not ready until it holds its own certificate (the
  // leader, maybe this agent, must be elected and serving first).
  try {
    await secure?.start(signal);
  } catch (err) {
    await leader.stop();
    await agent.stop();
    await secure?.stop();
    // Asked to stop while waiting for the certificate: a normal stop, not a failure.
    if (signal.aborted) {
      logger.info('stopped');
      return;
    }
    throw err;
  }
  provider.start();
  logger.info({ adminPort: agent.adminPort, nodeName: options.nodeName, namespace: options.namespace, identity }, 'agent started');
  await Promise.race([firstApplied, aborted]);
  if (!signal.aborted) {
    logger.info({
      adminPort: agent.adminPort, nodeName: options.nodeName, listenerPorts: last === null ? {} : (last as MeshConfig).allocation.ports,
      ...(secure === null ? {} : { tunnelPort: (secure as KubeSecure).tunnelPort }),
    }, 'agent ready');
  }

  await aborted;
  logger.info('stopping: releasing the lease, draining in-flight traffic');
  clearInterval(dnsCheck);
  await provider.stop();
  // Writes in flight were aborted; the CoreDNS check (client-node's own client) is not waited for long.
  await Promise.race([Promise.all([processing, dnsRunning]), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WRITES_WAIT_MS).unref())]);
  await leader.stop();
  await agent.stop();
  await secure?.stop();
  logger.info('stopped');
}
