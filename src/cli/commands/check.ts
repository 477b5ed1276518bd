/**
 * `plexus check`: is the installation healthy? One line per check (`ok`, `warn` or `FAIL` with a
 * hint, or `skip`), exit code 1 when any check fails (a warning does not). Reads only; runs with
 * the user's credentials.
 */
import { ApiException, ApiextensionsV1Api, AppsV1Api, AuthorizationV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { ClusterDnsError, findClusterDns, inspectCoreDns } from '../../dns/coredns-api.js';
import { CorefilePatchError, CorefileSyntaxError, MarkerError } from '../../dns/corefile.js';
import { AGENT_POD_SELECTOR } from '../../kube/labels.js';
import { SMI_RESOURCES } from '../../smi/resources.js';
import { stopIfUnreachable } from '../api-unreachable.js';
import { CliError, EXIT } from '../errors.js';
import { meshDomainOption } from '../options.js';
import { AGENT_API_CALLS, namespaceOf } from './check-agent-rbac.js';
import { checkMeshCa, checkNetworkPolicies, checkSecureAgents } from './check-secure.js';
import { proxyAnswerObject } from './proxy-answer.js';
import { clusterOptions, describeFailure, loadKubeConfig, meshedServices, type ClusterArgs } from './prepare.js';
import { typedClient } from '../../kube/typed-client.js';

/** The agent's ServiceAccount and DaemonSet, and its admin port, as in manifests/. */
const AGENT_NAME = 'plexus-agent';
const ADMIN_PORT = 9901;

interface CheckArgs extends ClusterArgs {
  readonly meshDomain: string;
}

interface Outcome {
  readonly status: 'ok' | 'warn' | 'FAIL' | 'skip';
  readonly detail: string;
  readonly hint?: string;
}

interface Check {
  readonly name: string;
  readonly run: (kc: KubeConfig, args: CheckArgs) => Promise<Outcome>;
}

const ok = (detail: string): Outcome => ({ status: 'ok', detail });
const fail = (detail: string, hint: string): Outcome => ({ status: 'FAIL', detail, hint });
const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;
const INSTALL_HINT = 'install with: kubectl apply -f manifests/';

const CHECKS: readonly Check[] = [
  {
    name: 'namespace',
    run: async (kc, args) => {
      try {
        await typedClient(kc, CoreV1Api).readNamespace({ name: args.namespace });
        return ok(`${args.namespace} exists`);
      } catch (err) {
        if (isStatus(err, 404)) return fail(`namespace ${args.namespace} does not exist`, INSTALL_HINT);
        throw err;
      }
    },
  },
  {
    name: 'SMI CRDs',
    run: async (kc) => {
      const api = typedClient(kc, ApiextensionsV1Api);
      const missing: string[] = [];
      const partial: string[] = [];
      for (const resource of SMI_RESOURCES) {
        const name = `${resource.plural}.${resource.group}`;
        try {
          const crd = await api.readCustomResourceDefinition({ name });
          const served = crd.spec.versions.filter((v) => v.served).map((v) => v.name);
          const absent = resource.versions.filter((v) => !served.includes(v));
          if (absent.length > 0) partial.push(`${name} does not serve ${absent.join(', ')}`);
        } catch (err) {
          if (!isStatus(err, 404)) throw err;
          missing.push(name);
        }
      }
      if (missing.length > 0) return fail(`missing: ${missing.join(', ')}`, INSTALL_HINT);
      // Plexus still reads the versions that are served, so this is a warning, not a failure.
      if (partial.length > 0) return { status: 'warn', detail: `all present; ${partial.join('; ')} (objects of those versions cannot be created)`, hint: 'kubectl apply -f manifests/ (the 1x-crd-*.yaml files)' };
      return ok('all served in every version Plexus reads');
    },
  },
  {
    name: 'RBAC',
    run: async (kc, args) => {
      const api = typedClient(kc, AuthorizationV1Api);
      const user = `system:serviceaccount:${args.namespace}:${AGENT_NAME}`;
      const names = await coreDnsNames(kc);
      const denied: string[] = [];
      for (const call of AGENT_API_CALLS) {
        const resourceName = call.resourceName === undefined ? undefined : names[call.resource]?.[call.resourceName] ?? call.resourceName;
        for (const verb of call.verbs) {
          const namespace = namespaceOf(call, args.namespace);
          // `httproutes/status` is resource httproutes, subresource status, to the authorizer.
          const [resource = call.resource, subresource] = call.resource.split('/');
          const review = {
            spec: {
              user,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${args.namespace}`, 'system:authenticated'],
              resourceAttributes: {
                group: call.group, resource, verb, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}), ...(resourceName ? { name: resourceName } : {}),
              },
            },
          };
          try {
            const answer = await api.createSubjectAccessReview({ body: review });
            if (!answer.status?.allowed) denied.push(`${verb} ${call.group || 'core'}/${call.resource}${resourceName ? `/${resourceName}` : ''}${namespace ? ` in ${namespace}` : ''}`);
          } catch (err) {
            if (isStatus(err, 404)) return { status: 'skip', detail: 'the API server does not serve SubjectAccessReview' };
            if (isStatus(err, 403)) return { status: 'skip', detail: 'your credentials may not create SubjectAccessReviews (authorization.k8s.io), so the agent\'s permissions cannot be asked' };
            throw err;
          }
        }
      }
      if (denied.length > 0) return fail(`${user} may not: ${denied.join(', ')}`, 'apply manifests/30-rbac.yaml (and add your CoreDNS object names to the plexus-coredns Role)');
      return ok(`${user} may make every call the agent makes`);
    },
  },
  {
    name: 'CoreDNS',
    run: async (kc, args) => {
      const services = await meshedServices(kc, args.namespace);
      let dns;
      try {
        dns = await inspectCoreDns(kc, { meshDomain: args.meshDomain, namespace: args.namespace, services });
      } catch (err) {
        // The cluster DNS or its Corefile is one Plexus will not patch: say why, not "permissions".
        if (err instanceof ClusterDnsError) return fail(err.message, 'Plexus needs CoreDNS as cluster DNS; see docs/dns.md, "Where the configuration is found"');
        if (err instanceof CorefilePatchError || err instanceof MarkerError || err instanceof CorefileSyntaxError) {
          return fail(err.message, 'fix the Corefile by hand, then run: plexus prepare (docs/dns.md, "Markers, idempotence and restore")');
        }
        throw err;
      }
      const warnings = dns.warnings.length > 0 ? ` (${dns.warnings.join('; ')})` : '';
      if (dns.state === 'current') return ok(`${dns.target} serves *.${args.meshDomain}${warnings}`);
      const what = dns.state === 'missing' ? `${dns.target} has no block for *.${args.meshDomain}` : `the *.${args.meshDomain} block in ${dns.target} is out of date`;
      return fail(`${what}${warnings}`, 'the leader agent writes it when it starts; or run: plexus prepare');
    },
  },
  {
    name: 'agents',
    run: async (kc, args) => {
      try {
        const ds = await typedClient(kc, AppsV1Api).readNamespacedDaemonSet({ namespace: args.namespace, name: AGENT_NAME });
        const desired = ds.status?.desiredNumberScheduled ?? 0;
        const ready = ds.status?.numberReady ?? 0;
        if (desired === 0) return fail('no node runs an agent yet', `kubectl -n ${args.namespace} describe daemonset ${AGENT_NAME}`);
        if (ready < desired) return fail(`${ready} of ${desired} nodes have a ready agent`, `kubectl -n ${args.namespace} get pods -o wide; kubectl -n ${args.namespace} logs <pod>`);
        return ok(`ready on all ${desired} nodes`);
      } catch (err) {
        if (isStatus(err, 404)) return fail(`DaemonSet ${args.namespace}/${AGENT_NAME} does not exist`, INSTALL_HINT);
        throw err;
      }
    },
  },
  {
    name: 'leader',
    run: async (kc, args) => {
      const leases = await typedClient(kc, CoordinationV1Api).listNamespacedLease({ namespace: args.namespace });
      const now = Date.now();
      for (const lease of leases.items) {
        const holder = lease.spec?.holderIdentity;
        const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : NaN;
        const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
        if (holder && renewed + duration >= now) return ok(`${holder} holds Lease ${lease.metadata?.name ?? ''}`);
      }
      return fail('no agent holds a current Lease', `kubectl -n ${args.namespace} logs -l app.kubernetes.io/component=agent`);
    },
  },
  {
    name: 'config problems',
    run: async (kc, args) => {
      const core = typedClient(kc, CoreV1Api);
      const selector = Object.entries(AGENT_POD_SELECTOR).map(([k, v]) => `${k}=${v}`).join(',');
      const pods = await core.listNamespacedPod({ namespace: args.namespace, labelSelector: selector });
      const ready = pods.items.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      const name = ready?.metadata?.name;
      if (!name) return { status: 'skip', detail: 'no ready agent to ask' };
      let body: unknown;
      try {
        // Through the API server's pod proxy to the public /readyz (counts): the agent's /config
        // answers only on loopback (docs/agent.md, "Admin endpoints").
        body = await core.connectGetNamespacedPodProxyWithPath({ namespace: args.namespace, name: `${name}:${ADMIN_PORT}`, path: 'readyz' });
      } catch (err) {
        if (isStatus(err, 404) || isStatus(err, 403)) return { status: 'skip', detail: `cannot reach agent ${name} through the API server's pod proxy` };
        // An agent that is not ready (yet) answers 503 with its reason; that is a warning, not a failure.
        if (isStatus(err, 503)) return { status: 'warn', detail: `agent ${name} is not ready: ${unreadyReason((err as ApiException<unknown>).body)}` };
        throw err;
      }
      const problems = problemCountsOf(body);
      if (problems === null) return { status: 'skip', detail: `agent ${name} answered /readyz without problem counts (an older agent?)` };
      const counts = `${problems.error} error${problems.error === 1 ? '' : 's'}, ${problems.warning} warning${problems.warning === 1 ? '' : 's'}`;
      if (problems.error === 0) return ok(`${counts} in the config of agent ${name}`);
      return fail(`${counts} in the config of agent ${name}`,
        `kubectl get events -A --field-selector reason=PlexusConfigProblem; or kubectl -n ${args.namespace} port-forward pod/${name} ${ADMIN_PORT} and curl http://127.0.0.1:${ADMIN_PORT}/config`);
    },
  },
  // Secure mode (docs/secure-mode.md): skipped where it is not set up.
  { name: 'mesh CA', run: (kc, args) => checkMeshCa(kc, args.namespace) },
  { name: 'secure agents', run: (kc, args) => checkSecureAgents(kc, args.namespace) },
  { name: 'NetworkPolicies', run: (kc) => checkNetworkPolicies(kc) },
];

/**
 * The names of this cluster's CoreDNS Deployment and ConfigMap, by resource, for the calls
 * AGENT_API_CALLS lists under the usual name `coredns` (RKE2 and others name them differently).
 */
async function coreDnsNames(kc: KubeConfig): Promise<Readonly<Record<string, Readonly<Record<string, string>>>>> {
  try {
    const dns = await findClusterDns(kc);
    if (dns.kind === 'coredns') return { deployments: { coredns: dns.deployment }, configmaps: { coredns: dns.configMap } };
  } catch {
    // Not found or not readable: the CoreDNS check reports that; ask about the usual names.
  }
  return {};
}

/** The reason an unready agent gave, whether the client handed the body over parsed or as text. */
export function unreadyReason(body: unknown): string {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return body.trim().slice(0, 200) || 'no reason given';
    }
  }
  if (typeof parsed === 'object' && parsed !== null) {
    const o = parsed as { reason?: unknown; message?: unknown; status?: unknown };
    for (const v of [o.reason, o.message, o.status]) if (typeof v === 'string' && v) return v;
    return JSON.stringify(parsed).slice(0, 200);
  }
  return 'no reason given';
}

/** The `problemCounts` of an agent's /readyz answer; null when it has none. */
export function problemCountsOf(body: unknown): { error: number; warning: number } | null {
  const counts = proxyAnswerObject(body)?.['problemCounts'];
  if (typeof counts !== 'object' || counts === null) return null;
  const { error, warning } = counts as { error?: unknown; warning?: unknown };
  return typeof error === 'number' && typeof warning === 'number' ? { error, warning } : null;
}

/** One failing check never stops the others, whatever it threw. */
function failureDetail(err: unknown): string {
  try {
    return describeFailure(err);
  } catch {
    return err instanceof Error ? err.message : String(err);
  }
}

function builder(yargs: Argv): Argv<CheckArgs> {
  return clusterOptions(yargs)
    .option('mesh-domain', meshDomainOption)
    .example('$0 check', 'Check the installation in the current kubeconfig context') as unknown as Argv<CheckArgs>;
}

async function handler(args: ArgumentsCamelCase<CheckArgs>): Promise<void> {
  const kc = loadKubeConfig(args.kubeconfig);
  let failures = 0;
  for (const check of CHECKS) {
    let outcome: Outcome;
    try {
      outcome = await check.run(kc, args);
    } catch (err) {
      // Every other check would fail the same way: one line, and stop.
      stopIfUnreachable(kc, err);
      outcome = fail(failureDetail(err), 'check the kubeconfig context and your permissions');
    }
    if (outcome.status === 'FAIL') failures++;
    console.log(`${outcome.status.padEnd(4)}  ${check.name}: ${outcome.detail}${outcome.hint ? `\n      hint: ${outcome.hint}` : ''}`);
  }
  if (failures > 0) throw new CliError(`${failures} check${failures === 1 ? '' : 's'} failed`, EXIT.PROBLEMS);
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Check the installation: CRDs, RBAC, CoreDNS, agents on every node, a leader, config problems, secure mode',
  builder,
  handler,
};
