/**
 * `plexus secure on|off`: switch secure mode in a cluster by a rollout (docs/secure-mode.md,
 * "Switching secure mode"). The switch is the agent pod template's annotation `plexus.dev/secure`,
 * which each agent reads as PLEXUS_SECURE and the other agents read to know whether it tunnels;
 * changing it rolls the DaemonSet one node at a time (maxSurge), plain and secure agents working
 * together meanwhile. `on` first makes sure the mesh CA exists (as `plexus prepare` does) and that
 * the issuer is ready, so the new agents get their certificates: it never starts a rollout that
 * would wait on an issuer that cannot answer. Runs with the user's credentials.
 */
import { ApiException, AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { ApiClient } from '../../kube/api-client.js';
import { typedClient } from '../../kube/typed-client.js';
import { AGENT_DAEMONSET, ISSUER_DEPLOYMENT, SECURE_ANNOTATION } from '../../kube/labels.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { trustDomainOption } from '../options.js';
import { prepareCa } from './cluster-ca.js';
import { clusterOptions, describeFailure, loadKubeConfig, type ClusterArgs } from './prepare.js';

interface SecureArgs extends ClusterArgs {
  readonly state: string;
  readonly trustDomain: string;
  readonly wait: number;
}

function builder(yargs: Argv): Argv<SecureArgs> {
  return clusterOptions(yargs)
    .positional('state', { choices: ['on', 'off'], describe: 'on: every agent runs secure mode after the rollout; off: plain mode' })
    .option('trust-domain', trustDomainOption)
    .option('wait', { type: 'number', default: 120, describe: 'on: seconds to wait for a ready issuer before rolling the agents' })
    .example('$0 secure on', 'Create the mesh CA if needed, wait for the issuer, roll the agents into secure mode')
    .example('$0 secure off', 'Roll the agents back to plain mode') as unknown as Argv<SecureArgs>;
}

/** The issuer Deployment's ready and wanted replicas; null when there is no such Deployment. */
export async function issuerReplicas(kc: KubeConfig, namespace: string): Promise<{ ready: number; wanted: number } | null> {
  try {
    const deployment = await typedClient(kc, AppsV1Api).readNamespacedDeployment({ namespace, name: ISSUER_DEPLOYMENT });
    return { ready: deployment.status?.readyReplicas ?? 0, wanted: deployment.spec?.replicas ?? 1 };
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return null;
    throw err;
  }
}

async function waitForIssuer(kc: KubeConfig, namespace: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const ready = (await issuerReplicas(kc, namespace))?.ready ?? null;
    if (ready === null) throw new CliError(`no Deployment ${namespace}/${ISSUER_DEPLOYMENT}: apply manifests/ first (45-issuer.yaml)`, EXIT.FAILURE);
    if (ready > 0) return;
    if (Date.now() >= deadline) {
      throw new CliError(`the issuer has no ready replica after ${seconds} s, so new agents could not get certificates: the agents were left as they are`
        + ` (kubectl -n ${namespace} logs deploy/${ISSUER_DEPLOYMENT})`, EXIT.FAILURE);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Sets the pod template annotation; false when it already had that value (no rollout). */
async function setTemplateAnnotation(kc: KubeConfig, namespace: string, value: 'true' | 'false'): Promise<boolean> {
  const ds = await typedClient(kc, AppsV1Api).readNamespacedDaemonSet({ namespace, name: AGENT_DAEMONSET });
  if (ds.spec?.template.metadata?.annotations?.[SECURE_ANNOTATION] === value) return false;
  await new ApiClient(kc).request('PATCH', `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/daemonsets/${AGENT_DAEMONSET}`, {
    body: { spec: { template: { metadata: { annotations: { [SECURE_ANNOTATION]: value } } } } },
    contentType: 'application/strategic-merge-patch+json',
  });
  return true;
}

async function handler(args: ArgumentsCamelCase<SecureArgs>): Promise<void> {
  if (args.state !== 'on' && args.state !== 'off') throw new UsageError('name a state: plexus secure on | off');
  const kc = loadKubeConfig(args.kubeconfig);
  const ns = args.namespace;
  try {
    if (args.state === 'on') {
      for (const line of await prepareCa(kc, ns, args.trustDomain)) console.log(line);
      await waitForIssuer(kc, ns, args.wait);
      console.log(`issuer: ready (Deployment ${ns}/${ISSUER_DEPLOYMENT})`);
    }
    const value = args.state === 'on' ? 'true' : 'false';
    if (!(await setTemplateAnnotation(kc, ns, value))) {
      console.log(`secure mode is already ${args.state} in the agent pod template; nothing changed (plexus check shows where the agents stand)`);
      return;
    }
    console.log(`secure mode ${args.state}: the agents roll out now, one node at a time; plain and secure agents work together meanwhile.`
      + `\nFollow it with: kubectl -n ${ns} rollout status daemonset/${AGENT_DAEMONSET}; plexus check says where the mesh stands.`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(describeFailure(err), EXIT.FAILURE);
  }
}

export const secureCommand: CommandModule<object, SecureArgs> = {
  command: 'secure <state>',
  describe: 'Switch secure mode on or off in the cluster by rolling the agents (no failed request)',
  builder,
  handler,
};
