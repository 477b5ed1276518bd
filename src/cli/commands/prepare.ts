/**
 * `plexus prepare`: add (or refresh) the mesh block in CoreDNS, once, from the user's machine.
 * The agent holding the Lease does the same continuously; this is for setting DNS up before the
 * agents run, or for repairing it by hand. Safe to run twice: the second run writes nothing and
 * restarts nothing. It also creates the mesh CA Secret for secure mode when there is none
 * (never replacing one) and publishes its roots (src/issuer/ca-store.ts), and the
 * mesh's tap token Secret when there is none (tap-token.ts).
 *
 * Also home of what prepare, cleanup and check share: the cluster options and error wording.
 */
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { ClusterDnsError, prepareCoreDns } from '../../dns/coredns-api.js';
import { CorefilePatchError, CorefileSyntaxError, MarkerError, type ServiceRef } from '../../dns/corefile.js';
import { KubeApiError } from '../../kube/api-client.js';
import { loadKubeConfig as loadAgentKubeConfig } from '../../kube/kubeconfig.js';
import { SHADOW_OF_NAME, SHADOW_OF_NAMESPACE, SHADOW_SELECTOR } from '../../kube/labels.js';
import { CaError } from '../../secure/ca.js';
import { DEFAULT_TRUST_DOMAIN } from '../../secure/defaults.js';
import { stopIfUnreachable, unreachableReason } from '../api-unreachable.js';
import { CliError, EXIT } from '../errors.js';
import { kubeconfigOption, meshDomainOption } from '../options.js';
import { prepareCa } from './cluster-ca.js';
import { prepareTapToken } from './tap-token.js';
import { typedClient } from '../../kube/typed-client.js';

export interface ClusterArgs {
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
}

export function clusterOptions<T>(yargs: Argv<T>): Argv<T & ClusterArgs> {
  return yargs
    .option('kubeconfig', kubeconfigOption)
    .option('namespace', { type: 'string', default: 'plexus', describe: 'The mesh namespace Plexus is installed in' }) as Argv<T & ClusterArgs>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  try {
    return loadAgentKubeConfig(path ?? null);
  } catch (err) {
    throw new CliError(`cannot use the kubeconfig${path ? ` ${path}` : ''}: ${err instanceof Error ? err.message : String(err)}`, EXIT.FAILURE);
  }
}

/** One line for a failed API call or a refused patch; anything else is a bug and rethrown. */
export function describeFailure(err: unknown): string {
  if (err instanceof ClusterDnsError || err instanceof CorefilePatchError || err instanceof MarkerError || err instanceof CorefileSyntaxError || err instanceof CaError) return err.message;
  if (err instanceof KubeApiError) return `the API server refused: ${err.message}${err.code === 403 ? ' (your credentials lack this permission)' : ''}`;
  if (err instanceof ApiException) {
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : `HTTP ${err.code}`;
    // client-node hands over no body for a 401, so the code alone has to explain it.
    const hint = err.code === 403 ? ' (your credentials lack this permission)'
      : err.code === 401 ? ' (your credentials were not accepted: an expired token, or the wrong kubeconfig context?)' : '';
    return `the API server refused: ${message}${hint}`;
  }
  const unreachable = unreachableReason(err);
  if (unreachable !== null) return `cannot reach the API server: ${unreachable}`;
  throw err;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The CliError a command stops with: one line, naming the API server when it cannot be reached. */
export function failure(kc: KubeConfig, err: unknown): CliError {
  stopIfUnreachable(kc, err);
  return new CliError(describeFailure(err), EXIT.FAILURE);
}

/** The meshed Services, read back from the shadow Services' labels (or annotations). */
export async function meshedServices(kc: KubeConfig, namespace: string): Promise<ServiceRef[]> {
  const list = await typedClient(kc, CoreV1Api).listNamespacedService({ namespace, labelSelector: SHADOW_SELECTOR });
  const refs: ServiceRef[] = [];
  for (const svc of list.items) {
    const meta = svc.metadata ?? {};
    const of = (key: string): string | undefined => meta.labels?.[key] ?? meta.annotations?.[key];
    const ns = of(SHADOW_OF_NAMESPACE);
    const name = of(SHADOW_OF_NAME);
    if (ns && name) refs.push({ namespace: ns, name });
  }
  return refs;
}

/** Whether the mesh namespace exists; null when the credentials may not tell. */
export async function namespaceExists(kc: KubeConfig, namespace: string): Promise<boolean | null> {
  try {
    await typedClient(kc, CoreV1Api).readNamespace({ name: namespace });
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    if (err instanceof ApiException && err.code === 403) return null;
    throw err;
  }
}

interface PrepareArgs extends ClusterArgs {
  readonly meshDomain: string;
  readonly clusterDomain: string | undefined;
  readonly trustDomain: string;
}

function builder(yargs: Argv): Argv<PrepareArgs> {
  return clusterOptions(yargs)
    .option('mesh-domain', meshDomainOption)
    .option('cluster-domain', { type: 'string', describe: "The cluster's DNS domain", defaultDescription: 'read from the Corefile, else cluster.local' })
    .option('trust-domain', { type: 'string', default: DEFAULT_TRUST_DOMAIN, describe: 'Secure mode: the SPIFFE trust domain of the mesh CA, when prepare creates it' })
    .example('$0 prepare', 'Patch CoreDNS of the current kubeconfig context') as unknown as Argv<PrepareArgs>;
}

async function handler(args: ArgumentsCamelCase<PrepareArgs>): Promise<void> {
  const kc = loadKubeConfig(args.kubeconfig);
  try {
    const services = await meshedServices(kc, args.namespace);
    const result = await prepareCoreDns(kc, {
      meshDomain: args.meshDomain,
      namespace: args.namespace,
      services,
      ...(args.clusterDomain ? { clusterDomain: args.clusterDomain } : {}),
    });
    for (const warning of result.warnings) console.error(`warning: ${warning}`);
    console.log(result.changed
      ? `CoreDNS: patched ${result.target} for *.${args.meshDomain}; CoreDNS is rolling out`
      : `CoreDNS: ${result.target} already serves *.${args.meshDomain}; nothing written, nothing restarted`);
    if ((await namespaceExists(kc, args.namespace)) === false) {
      // Before `kubectl apply -f manifests/` (or a mistyped --namespace): DNS is set up, the CA
      // Secret has nowhere to go yet. Said plainly instead of failing on the API's 404.
      console.error(`warning: namespace ${args.namespace} does not exist (kubectl apply -f manifests/ creates plexus); the CoreDNS block points at it`);
      console.log(`mesh CA: skipped: no namespace ${args.namespace} yet; run plexus prepare again after installing to create it (secure mode only)`);
      return;
    }
    for (const line of await prepareCa(kc, args.namespace, args.trustDomain)) console.log(line);
    console.log(await prepareTapToken(kc, args.namespace));
  } catch (err) {
    throw failure(kc, err);
  }
}

export const prepareCommand: CommandModule<object, PrepareArgs> = {
  command: 'prepare',
  describe: 'Add the mesh domain to CoreDNS (the leader agent also does this) and create the mesh CA and tap token Secrets if absent; safe to run twice',
  builder,
  handler,
};
