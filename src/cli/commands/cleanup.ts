/**
 * `plexus cleanup`: undo what Plexus wrote outside its manifests — the CoreDNS block (restored
 * byte-exact, CoreDNS rolled once), the shadow Services, secure mode's NetworkPolicies, and the mesh CA Secret and trust-bundle
 * ConfigMap when Plexus made them (a CA Secret you brought is kept). Works before or after
 * `kubectl delete -f manifests/`, without knowing the CoreDNS version, and when run twice.
 */
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { cleanupCoreDns } from '../../dns/coredns-api.js';
import { SHADOW_SELECTOR } from '../../kube/labels.js';
import { cleanupNetworkPolicies } from './cleanup-policies.js';
import { cleanupCa } from './cluster-ca.js';
import { clusterOptions, failure, loadKubeConfig, type ClusterArgs } from './prepare.js';

interface CleanupArgs extends ClusterArgs {
  readonly meshDomain: string | undefined;
}

function builder(yargs: Argv): Argv<CleanupArgs> {
  return clusterOptions(yargs)
    .option('mesh-domain', {
      type: 'string',
      describe: 'Remove only the CoreDNS block of this mesh domain (default: every Plexus block)',
    })
    .example('$0 cleanup', 'After kubectl delete -f manifests/: restore CoreDNS') as unknown as Argv<CleanupArgs>;
}

/** Deletes the shadow Services; an already missing one (or namespace) is fine. */
async function deleteShadowServices(kc: KubeConfig, namespace: string): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedService({ namespace, labelSelector: SHADOW_SELECTOR });
  let deleted = 0;
  for (const svc of list.items) {
    const name = svc.metadata?.name;
    if (!name) continue;
    try {
      await core.deleteNamespacedService({ namespace, name });
      deleted++;
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }
  return deleted;
}

async function handler(args: ArgumentsCamelCase<CleanupArgs>): Promise<void> {
  const kc = loadKubeConfig(args.kubeconfig);
  try {
    const deleted = await deleteShadowServices(kc, args.namespace);
    console.log(`shadow Services: ${deleted === 0 ? 'none left' : `deleted ${deleted}`} in namespace ${args.namespace}`);
    console.log(await cleanupNetworkPolicies(kc));
    for (const line of await cleanupCa(kc, args.namespace)) console.log(line);
    const dns = await cleanupCoreDns(kc, args.meshDomain);
    for (const warning of dns.warnings) console.error(`warning: ${warning}`);
    console.log(dns.changed ? `CoreDNS: restored the original configuration of ${dns.target}; CoreDNS is rolling out` : 'CoreDNS: no Plexus block left; nothing written');
  } catch (err) {
    throw failure(err);
  }
}

export const cleanupCommand: CommandModule<object, CleanupArgs> = {
  command: 'cleanup',
  describe: 'Remove the CoreDNS block (exact restore), the shadow Services, and the NetworkPolicies and mesh CA Plexus made; safe to run twice',
  builder,
  handler,
};
