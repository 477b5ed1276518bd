/**
 * A leader elector in its own process, so a test can kill it as a crash would (no release).
 * Usage: node elector-process.js <api server url> <identity>. Prints `leading` once it leads.
 */
import { LeaderElector } from '../../../src/kube/leader.js';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';

const [url, identity] = process.argv.slice(2);
if (!url || !identity) throw new Error('usage: elector-process.js <url> <identity>');
const elector = new LeaderElector({
  kubeConfig: kubeconfigFor({ url }),
  namespace: 'plexus',
  identity,
  leaseDurationSeconds: 1,
  renewIntervalMs: 100,
  onStartedLeading: () => process.stdout.write('leading\n'),
});
elector.start();
