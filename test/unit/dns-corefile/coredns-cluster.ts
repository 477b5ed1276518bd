/** Test helper: a fake cluster with a CoreDNS Deployment and its ConfigMaps, seeded through the API. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { FIXTURES } from '../../helpers/paths.js';

/** A Corefile of test/fixtures/corefiles. */
export const corefileOf = (name: string): string => readFileSync(join(FIXTURES, 'corefiles', name), 'utf8');

export interface CoreDnsSetup {
  readonly corefile: string;
  readonly image?: string;
  /** AKS: mount coredns-custom and create it with this data. */
  readonly custom?: Record<string, string>;
  /** A KubeDNS Deployment instead of CoreDNS. */
  readonly kubeDns?: boolean;
}

export async function seedCoreDns(kc: KubeConfig, setup: CoreDnsSetup): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = 'kube-system';
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'coredns', namespace }, data: { Corefile: setup.corefile } } });
  if (setup.custom) {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'coredns-custom', namespace }, data: setup.custom } });
  }
  const labels = { 'k8s-app': 'kube-dns' };
  const deployment: V1Deployment = setup.kubeDns
    ? {
        metadata: { name: 'kube-dns', namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'kubedns', image: 'registry.k8s.io/dns/k8s-dns-kube-dns:1.22.28' }] } },
        },
      }
    : {
        metadata: { name: 'coredns', namespace, labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'coredns',
                  image: setup.image ?? 'registry.k8s.io/coredns/coredns:v1.11.3',
                  args: ['-conf', '/etc/coredns/Corefile'],
                  volumeMounts: [
                    { name: 'config-volume', mountPath: '/etc/coredns', readOnly: true },
                    ...(setup.custom ? [{ name: 'custom-config-volume', mountPath: '/etc/coredns/custom', readOnly: true }] : []),
                  ],
                },
              ],
              volumes: [
                { name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } },
                ...(setup.custom ? [{ name: 'custom-config-volume', configMap: { name: 'coredns-custom', optional: true } }] : []),
              ],
            },
          },
        },
      };
  await apps.createNamespacedDeployment({ namespace, body: deployment });
}

export async function readState(kc: KubeConfig): Promise<{ corefile: string; annotations: Record<string, string>; resourceVersion: string; custom: Record<string, string> | null; template: Record<string, string>; deploymentVersion: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' });
  let custom: Record<string, string> | null = null;
  try {
    custom = (await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns-custom' })).data ?? {};
  } catch {
    custom = null;
  }
  const deployment = await apps.readNamespacedDeployment({ namespace: 'kube-system', name: 'coredns' });
  return {
    corefile: cm.data?.['Corefile'] ?? '',
    annotations: cm.metadata?.annotations ?? {},
    resourceVersion: cm.metadata?.resourceVersion ?? '',
    custom,
    template: deployment.spec?.template.metadata?.annotations ?? {},
    deploymentVersion: deployment.metadata?.resourceVersion ?? '',
  };
}
