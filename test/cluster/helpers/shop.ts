/**
 * The test application, in namespace `shop` (meshed by its annotation): backends `web-v1` (2
 * pods) and `web-v2` (1 pod) behind Service `web` and its split backends `web-v1` / `web-v2`;
 * `flaky` (every 2nd request of its pod is a 503; `retry-attempts: "3"`); `echo-tcp` and
 * `echo-udp` on the web pods; `toggle`, opted out; client pods `client` and `stranger`
 * (ServiceAccounts of the same names). Applying it again changes nothing.
 */
import type { TestCluster } from './cluster.js';
import { applyAll, backend, ClientPod, clientPod, namespace, podsReady, scriptsConfigMap, service, serviceAccount } from './workloads.js';

export const SHOP = 'shop';
const HTTP = [{ name: 'http', port: 80, targetPort: 8080 }];

export interface Shop {
  readonly client: ClientPod;
  readonly stranger: ClientPod;
}

export async function ensureShop(cluster: TestCluster): Promise<Shop> {
  const web = { app: 'web' };
  await applyAll(cluster, [namespace(SHOP, { 'plexus.dev/mesh': 'true' })]);
  await applyAll(cluster, [
    scriptsConfigMap(SHOP),
    serviceAccount(SHOP, 'client'), serviceAccount(SHOP, 'stranger'), serviceAccount(SHOP, 'web'),
    backend(cluster, SHOP, 'web-v1', { labels: { ...web, version: 'v1' }, replicas: 2, serviceAccount: 'web' }),
    backend(cluster, SHOP, 'web-v2', { labels: { ...web, version: 'v2' }, serviceAccount: 'web' }),
    backend(cluster, SHOP, 'flaky', { labels: { app: 'flaky' }, failEvery: 2, serviceAccount: 'web' }),
    service(SHOP, 'web', web, HTTP),
    service(SHOP, 'web-v1', { ...web, version: 'v1' }, HTTP),
    service(SHOP, 'web-v2', { ...web, version: 'v2' }, HTTP),
    service(SHOP, 'flaky', { app: 'flaky' }, HTTP, { 'plexus.dev/retry-attempts': '3' }),
    service(SHOP, 'echo-tcp', web, [{ name: 'tcp', port: 9000, targetPort: 9000 }], { 'plexus.dev/traffic-type': 'tcp' }),
    service(SHOP, 'echo-udp', web, [{ name: 'udp', port: 53, targetPort: 9053, protocol: 'UDP' }]),
    service(SHOP, 'toggle', web, HTTP, { 'plexus.dev/mesh': 'false' }),
    clientPod(cluster, SHOP, 'client', 'client'),
    clientPod(cluster, SHOP, 'stranger', 'stranger'),
  ]);
  await podsReady(cluster, SHOP, 'app in (web, flaky)');
  await podsReady(cluster, SHOP, 'role=client');
  return { client: new ClientPod(cluster, SHOP, 'client'), stranger: new ClientPod(cluster, SHOP, 'stranger') };
}
