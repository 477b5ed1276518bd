/**
 * Secure mode on the real cluster (issue 21), 2 of 3: in secure mode, `kubectl rollout restart`
 * of the issuer and then of the agents, and the CA rotated, each under two bounded loads
 * (keep-alive and a new connection per request): every request answered. Ends in plain mode.
 */
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { until } from './helpers/cluster.js';
import { agentsRolledOut, MESH_NAMESPACE } from './helpers/install.js';
import { agentCertificates, checkLine, issuerRolledOut, plexus, runningPods, secureFileHooks } from './helpers/secure.js';

describe('cluster: secure mode, rollouts of the issuer and the agents, the CA rotated (issue 21)', function () {
  this.timeout(900_000);
  const file = secureFileHooks('secure');

  it('kubectl rollout restart of the issuer and then of the agents drops no request; the new agents get certificates', async () => {
    const { cluster, loads } = file;
    loads.start();
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'deployment/plexus-issuer']);
    await issuerRolledOut(cluster);
    await cluster.kubectl.ok(['rollout', 'restart', '-n', MESH_NAMESPACE, 'daemonset/plexus-agent']);
    await agentsRolledOut(cluster);
    // The new agents are ready only with their own certificate, which came from the new issuer pods.
    for (const pod of (await runningPods(cluster, 'agent')).items) {
      const held = (await agentCertificates(cluster, pod.metadata.name)).map((c) => c.identity);
      expect(held, pod.metadata.name).to.include(`node/${pod.spec?.nodeName ?? ''}`);
    }
    await loads.stop();
  });

  it('the CA rotated under load: agents move to the new root, the old one is retired, no failed request', async () => {
    const { cluster, loads } = file;
    loads.start();
    await plexus(cluster, 'ca', 'rotate', '--wait', '20');
    const bundle = await cluster.kubectl.get<{ data: { 'ca.crt': string } }>(['configmap', '-n', MESH_NAMESPACE, 'plexus-ca-bundle']);
    const newRoot = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(bundle!.data['ca.crt'])![0]).subject.replaceAll('\n', ', ');
    await until('every agent certificate signed by the new root', async () => {
      for (const pod of (await runningPods(cluster, 'agent')).items) {
        const certs = await agentCertificates(cluster, pod.metadata.name);
        if (certs.length === 0 || certs.some((c) => c.signedBy !== newRoot)) throw new Error(`${pod.metadata.name}: ${JSON.stringify(certs.map((c) => c.signedBy))}`);
      }
      return true;
    }, 240_000);
    await plexus(cluster, 'ca', 'retire', '--force');
    expect(await checkLine(cluster, 'mesh CA')).to.match(/^ok/);
    await loads.stop();
  });
});
