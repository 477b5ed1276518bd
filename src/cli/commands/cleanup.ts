/**
 * `plexus cleanup`: undo what the agents and `plexus prepare` wrote outside manifests/ — the
 * CoreDNS block (restored byte-exact, CoreDNS rolled once, the pod-template annotation removed),
 * the own-names hosts file's mount in CoreDNS,
 * the shadow Services, the leader Lease, the problem Events, secure mode's NetworkPolicies, and
 * the mesh CA Secret and trust-bundle ConfigMap and the tap token Secret when Plexus made them
 * (a Secret you brought is kept). Works before or after `kubectl delete -f manifests/`, without knowing the CoreDNS
 * version, and when run twice. One failing step does not stop the others; the exit code says
 * whether all succeeded.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { cleanupCoreDns } from '../../dns/coredns-api.js';
import { cleanupOwnNames } from '../../dns/coredns-own-names.js';
import { stopIfUnreachable } from '../api-unreachable.js';
import { CliError, EXIT } from '../errors.js';
import { deleteLeaderLease, deletePlexusEvents, deleteShadowServices, installedWorkloads } from './cleanup-objects.js';
import { cleanupNetworkPolicies } from './cleanup-policies.js';
import { cleanupCa } from './cluster-ca.js';
import { cleanupTapToken } from './tap-token.js';
import { clusterOptions, describeFailure, loadKubeConfig, type ClusterArgs } from './prepare.js';

interface CleanupArgs extends ClusterArgs {
  readonly meshDomain: string | undefined;
}

function builder(yargs: Argv): Argv<CleanupArgs> {
  return clusterOptions(yargs)
    .option('mesh-domain', {
      type: 'string',
      describe: 'Remove only the CoreDNS block of this mesh domain',
      defaultDescription: 'every Plexus block',
    })
    .example('$0 cleanup', 'After kubectl delete -f manifests/: restore CoreDNS') as unknown as Argv<CleanupArgs>;
}

/** A failing step is reported whatever it threw, and the next step still runs. */
function detail(err: unknown): string {
  try {
    return describeFailure(err);
  } catch {
    return err instanceof Error ? err.message : String(err);
  }
}

const counted = (n: number, what: string, where: string): string => (n === 0 ? `${what}: none left${where}` : `${what}: deleted ${n}${where}`);

async function handler(args: ArgumentsCamelCase<CleanupArgs>): Promise<void> {
  const kc = loadKubeConfig(args.kubeconfig);
  const ns = args.namespace;
  const steps: ReadonlyArray<readonly [string, () => Promise<string>]> = [
    ['agents', async () => {
      const running = await installedWorkloads(kc, ns);
      if (running.length > 0) {
        console.error(`warning: ${running.join(' and ')} still exist${running.length === 1 ? 's' : ''} (the agents' leader writes the CoreDNS block and the shadow Services again; the issuer signs with any CA made anew). Run kubectl delete -f manifests/ first, then plexus cleanup again`);
      }
      return '';
    }],
    ['shadow Services', async () => counted(await deleteShadowServices(kc, ns), 'shadow Services', ` in namespace ${ns}`)],
    ['Lease', async () => ((await deleteLeaderLease(kc, ns)) ? `Lease: deleted ${ns}/plexus-leader` : 'Lease: none left')],
    ['Events', async () => counted(await deletePlexusEvents(kc), 'Events', '')],
    ['NetworkPolicies', () => cleanupNetworkPolicies(kc)],
    ['mesh CA', async () => (await cleanupCa(kc, ns)).join('\n')],
    ['tap token', () => cleanupTapToken(kc, ns)],
    ['CoreDNS', async () => {
      const dns = await cleanupCoreDns(kc, args.meshDomain);
      for (const warning of dns.warnings) console.error(`warning: ${warning}`);
      // Not "no block left": nothing was looked at (the warning above says why).
      if (!dns.found) return 'CoreDNS: no CoreDNS Deployment found in kube-system; nothing written';
      if (!dns.changed && !dns.rolled) return 'CoreDNS: no Plexus block left; nothing written';
      return dns.changed ? `CoreDNS: restored the original configuration of ${dns.target}${dns.rolled ? '; CoreDNS is rolling out' : ''}` : `CoreDNS: removed the Plexus annotation from ${dns.target}; CoreDNS is rolling out`;
    }],
    // After the Corefile lost its hosts line: the hosts file's mount goes (its ConfigMap is a manifest).
    ['own names', async () => {
      if (args.meshDomain !== undefined) return '';
      const own = await cleanupOwnNames(kc);
      return own.changed ? `own names: removed the hosts file mount from ${own.target}; CoreDNS is rolling out` : '';
    }],
  ];
  let failed = 0;
  for (const [name, step] of steps) {
    try {
      const line = await step();
      if (line) console.log(line);
    } catch (err) {
      // Every later step would fail the same way: one line, and stop.
      stopIfUnreachable(kc, err);
      failed++;
      console.error(`error: ${name}: ${detail(err)}`);
    }
  }
  if (failed > 0) throw new CliError(`${failed} cleanup step${failed === 1 ? '' : 's'} failed; fix and run plexus cleanup again`, EXIT.FAILURE);
}

export const cleanupCommand: CommandModule<object, CleanupArgs> = {
  command: 'cleanup',
  describe: 'Remove the CoreDNS block (exact restore), shadow Services, Lease, Events, and the NetworkPolicies, mesh CA and tap token Plexus made; safe to run twice',
  builder,
  handler,
};
