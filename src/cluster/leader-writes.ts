/**
 * What the leader writes back to the cluster from each MeshConfig: shadow Services (the port
 * allocation), secure mode's NetworkPolicies, the status of Gateway API routes, Events for the
 * problems, and the CoreDNS mesh block.
 *
 * The NetworkPolicies follow the mesh's secure mode (any agent pod advertising it, agent-pods.ts),
 * not the leader's own: during a switch either way the leader may be a plain or a secure agent,
 * and the policies are kept from the first secure agent to the last. Removed only once no agent
 * runs secure mode; neither written nor removed before the agent pods were read.
 *
 * The CoreDNS check runs beside the caller's update queue, one at a time: a hung call waits out
 * its 30 s timeout (several calls in one check), and must not hold up the configs behind it. One
 * skipped while another runs is made by the next update or the periodic check.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ApiClient } from '../kube/api-client.js';
import { formatProblem, problem, type Problem } from '../model/problem.js';
import type { RawObject } from '../model/snapshot.js';
import type { MeshConfig } from '../routing/mesh-config.js';
import { desiredNetworkPolicies } from './network-policies.js';
import { NetworkPolicyWriter } from './network-policy-writer.js';
import { DNS_CHECK_INTERVAL_MS, DnsKeeper } from './dns-keeper.js';
import { EventRecorder } from './events.js';
import { RouteStatusWriter } from './route-status.js';
import { ownNamesOf, planShadowServices, ShadowServiceWriter } from './shadow.js';
import type { OwnName } from '../dns/own-names.js';

export interface LeaderWritesOptions {
  readonly client: ApiClient;
  readonly kubeConfig: KubeConfig;
  /** The mesh namespace (shadow Services, the agents). */
  readonly namespace: string;
  readonly nodeName: string;
  readonly meshDomain: string;
  /**
   * The mesh's secure mode: true, the NetworkPolicies are kept; false, any written before are
   * removed; null (not known yet), they are left as they are.
   */
  readonly meshSecure: () => boolean | null;
  readonly logger: Logger;
}

export class LeaderWrites {
  readonly #options: LeaderWritesOptions;
  readonly #shadows: ShadowServiceWriter;
  readonly #events: EventRecorder;
  readonly #policies: NetworkPolicyWriter;
  readonly #routeStatus: RouteStatusWriter;
  readonly #dns: DnsKeeper;
  #dnsRunning: Promise<void> | null = null;
  /** The own names of the last config written (with the shadow ClusterIPs then known). */
  #ownNames: readonly OwnName[] = [];
  #dnsTimer: NodeJS.Timeout | null = null;

  constructor(options: LeaderWritesOptions) {
    this.#options = options;
    this.#shadows = new ShadowServiceWriter(options.client, options.namespace);
    this.#events = new EventRecorder(options.client, options.nodeName);
    this.#policies = new NetworkPolicyWriter(options.client);
    this.#routeStatus = new RouteStatusWriter(options.client);
    this.#dns = new DnsKeeper({ kubeConfig: options.kubeConfig, namespace: options.namespace, meshDomain: options.meshDomain, logger: options.logger });
  }

  /** Leadership was just taken: CoreDNS and the NetworkPolicies are checked afresh. */
  reset(): void {
    this.#dns.reset();
    this.#policies.reset();
  }

  /** Writes what `config` (compiled from `objects`) asks of the cluster; `shadowServices` are the ones found. */
  async write(config: MeshConfig, objects: readonly RawObject[], shadowServices: readonly RawObject[]): Promise<void> {
    const { logger, namespace } = this.#options;
    const failures = await this.#shadows.apply(planShadowServices(config, shadowServices, namespace));
    const writeProblems: Problem[] = failures.map((f) => problem({ kind: 'Service', namespace: f.service.namespace, name: f.service.name }, f.message));
    for (const p of writeProblems) logger.warn({ problem: formatProblem(p) }, 'shadow Service not written');
    const secure = this.#options.meshSecure();
    const policyFailures = secure === null ? [] : await this.#policies.keep(secure ? desiredNetworkPolicies(config, objects, namespace) : [])
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
    for (const f of await this.#routeStatus.write(config, objects)) {
      const [kind = 'HTTPRoute', key = ''] = f.route.split(' ');
      const p = problem({ kind, namespace: key.split('/')[0] ?? '', name: key.split('/')[1] ?? '' }, f.message);
      logger.warn({ problem: formatProblem(p) }, 'route status not written');
      writeProblems.push(p);
    }
    await this.#events.report([...config.problems, ...writeProblems], objects);
    this.#ownNames = ownNamesOf(config, shadowServices, namespace);
    this.keepDns(config);
  }

  /** Checks the CoreDNS block for `config`, unless a check runs already. */
  keepDns(config: MeshConfig): void {
    this.#dnsRunning ??= this.#dns.keep(config, this.#ownNames).finally(() => {
      this.#dnsRunning = null;
    });
  }

  /** A quiet cluster brings no updates: CoreDNS is checked periodically for the config `current` gives (none: skipped). */
  checkDnsPeriodically(current: () => MeshConfig | null): void {
    this.#dnsTimer = setInterval(() => {
      const config = current();
      if (config !== null) this.keepDns(config);
    }, DNS_CHECK_INTERVAL_MS);
    this.#dnsTimer.unref();
  }

  /** Ends the periodic check; resolves when the CoreDNS check in progress, if any, ends. */
  stop(): Promise<void> {
    if (this.#dnsTimer !== null) clearInterval(this.#dnsTimer);
    return this.#dnsRunning ?? Promise.resolve();
  }
}
