/**
 * Uninstalling as docs/install.md says: `kubectl delete -f manifests/`, then `plexus cleanup`,
 * leaves the cluster as it was before `kubectl apply -f manifests/`: the Corefile byte for byte,
 * CoreDNS's pod template without Plexus's annotation, no Plexus namespace, CRDs or cluster roles.
 * Runs last (file order): it uninstalls what the other files installed first.
 */
import { expect } from 'chai';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { install, installedArgs, MESH_NAMESPACE, uninstall } from './helpers/install.js';

interface Snapshot {
  readonly corefile: string;
  readonly configMapAnnotations: Record<string, string>;
  readonly templateAnnotations: Record<string, string>;
  readonly plexusObjects: string;
}

async function snapshot(cluster: TestCluster): Promise<Snapshot> {
  const configMap = await cluster.kubectl.get<{ data: { Corefile: string }; metadata: { annotations?: Record<string, string> } }>(['configmap', '-n', 'kube-system', 'coredns']);
  const deployment = await cluster.kubectl.get<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(['deployment', '-n', 'kube-system', 'coredns']);
  const { ['kubectl.kubernetes.io/last-applied-configuration']: _ignored, ...configMapAnnotations } = configMap?.metadata.annotations ?? {};
  const plexusObjects = await cluster.kubectl.ok(['get', 'namespaces,crds,clusterroles,clusterrolebindings', '-o', 'name', '--ignore-not-found']);
  return {
    corefile: configMap?.data.Corefile ?? '',
    configMapAnnotations,
    templateAnnotations: deployment?.spec.template.metadata.annotations ?? {},
    plexusObjects: plexusObjects.split('\n').filter((line) => /plexus|smi-spec/.test(line)).sort().join('\n'),
  };
}

describe('cluster: uninstall leaves the cluster as it was', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let pristine: Snapshot;

  before(async function () {
    cluster = clusterUnderTest(this);
    if (await installedArgs(cluster) !== null) {
      const cleanup = await uninstall(cluster);
      expect(cleanup.code, cleanup.stderr).to.equal(0);
    }
    pristine = await snapshot(cluster);
  });

  it('kubectl apply -f manifests/ patches CoreDNS; kubectl delete -f manifests/ + plexus cleanup restore it byte for byte', async () => {
    expect(pristine.corefile).to.not.include('# BEGIN plexus');
    await install(cluster);
    await until('the leader to add the mesh block to the Corefile', async () => ((await snapshot(cluster)).corefile.includes('# BEGIN plexus mesh-domain=plexus') ? true : undefined));
    const cleanup = await uninstall(cluster);
    expect(cleanup.code, `${cleanup.stdout}\n${cleanup.stderr}`).to.equal(0);
    const after = await snapshot(cluster);
    expect(after.corefile, 'the Corefile').to.equal(pristine.corefile);
    expect(after.configMapAnnotations, 'the coredns ConfigMap\'s annotations').to.deep.equal(pristine.configMapAnnotations);
    expect(after.templateAnnotations, 'CoreDNS\'s pod template annotations').to.deep.equal(pristine.templateAnnotations);
    expect(after.plexusObjects, 'Plexus\'s namespaces, CRDs and cluster roles').to.equal(pristine.plexusObjects);
    expect(await cluster.kubectl.get(['namespace', MESH_NAMESPACE])).to.equal(null);
    // Run twice, cleanup finds nothing to do and writes nothing.
    const again = await uninstall(cluster);
    expect(again.code, again.stderr).to.equal(0);
    expect((await snapshot(cluster)).corefile).to.equal(pristine.corefile);
  });
});
