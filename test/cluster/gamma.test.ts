/**
 * Gateway API routes on a real API server: the Gateway API CRDs (standard channel v1.6.1,
 * vendored in test/fixtures/gateway/crds) installed, the agents discover the group, route
 * requests by an HTTPRoute on Service `web`, and the leader writes each route's
 * status.parents (Accepted / ResolvedRefs, controllerName plexus.dev/mesh, observedGeneration),
 * which the CRD's own validation accepts. And own names: a Service with plexus.dev/own-names is
 * reached through the mesh by its own cluster DNS names, from a pod.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.js';
import { clusterUnderTest, until, type TestCluster } from './helpers/cluster.js';
import { ensureInstalled } from './helpers/install.js';
import { ensureShop, SHOP, type Shop } from './helpers/shop.js';

const CRDS = join(FIXTURES, 'gateway', 'crds');

interface RouteObject {
  readonly metadata: { readonly generation: number };
  readonly status?: {
    readonly parents?: readonly {
      readonly controllerName: string;
      readonly parentRef: Readonly<Record<string, unknown>>;
      readonly conditions: readonly { type: string; status: string; reason: string; observedGeneration: number }[];
    }[];
  };
}

function route(name: string, parent: string, rules: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: ${SHOP}}
spec:
  parentRefs:
  - {group: "", kind: Service, name: ${parent}, port: 80}
  rules:
${rules}`;
}

describe('cluster: Gateway API routes (HTTPRoute) and their status', function () {
  this.timeout(600_000);
  let cluster: TestCluster;
  let shop: Shop;

  before(async function () {
    cluster = clusterUnderTest(this);
    // The HTTPRoute CRD is larger than a client-side apply's annotation may be.
    await cluster.kubectl.ok(['apply', '--server-side', '-f', CRDS]);
    await ensureInstalled(cluster, []);
    shop = await ensureShop(cluster);
  });

  after(async () => {
    if (cluster === undefined) return;
    await cluster.kubectl.ok(['delete', 'httproute', '-n', SHOP, '--all', '--ignore-not-found']);
    await cluster.kubectl.ok(['delete', '-f', CRDS, '--ignore-not-found']);
  });

  /** The conditions Plexus wrote for the route's parent, once they describe its current generation. */
  async function plexusStatus(name: string): Promise<Record<string, string>> {
    return until(`status.parents of HTTPRoute ${name} written by plexus.dev/mesh`, async () => {
      const object = await cluster.kubectl.get<RouteObject>(['httproute', '-n', SHOP, name]);
      const ours = object?.status?.parents?.find((p) => p.controllerName === 'plexus.dev/mesh');
      if (!object || !ours || ours.conditions.some((c) => c.observedGeneration !== object.metadata.generation)) return undefined;
      return Object.fromEntries(ours.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
    }, 180_000);
  }

  it('routes by an HTTPRoute on the Service: /v2 to web-v2, unmatched 404; the route is Accepted', async () => {
    await cluster.kubectl.apply(route('web-paths', 'web', `  - matches: [{path: {type: Exact, value: /v2}}]
    backendRefs: [{name: web-v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /v1}}]
    backendRefs: [{name: web-v1, port: 80}]
`));
    expect(await plexusStatus('web-paths')).to.deep.equal({ Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
    const url = `http://web.${SHOP}.plexus`;
    await until('/v2 answered by web-v2, /v1 by web-v1, / refused with 404', async () => {
      const [v2, v1, other] = [await shop.client.get(`${url}/v2`), await shop.client.get(`${url}/v1/x`), await shop.client.get(`${url}/`)];
      if (v2.status !== 200 || !v2.body.startsWith('web-v2') || v1.status !== 200 || !v1.body.startsWith('web-v1') || other.status !== 404) {
        throw new Error(`/v2 ${v2.status} ${v2.body}; /v1/x ${v1.status} ${v1.body}; / ${other.status} ${other.body}`);
      }
      return true;
    });
  });

  it('a new generation is described again; a missing parent and a missing backend are reported', async () => {
    await cluster.kubectl.apply(route('web-paths', 'web', `  - matches: [{path: {type: Exact, value: /v2}}]
    backendRefs: [{name: web-v3, port: 80}]
`));
    expect(await plexusStatus('web-paths')).to.deep.equal({ Accepted: 'True/Accepted', ResolvedRefs: 'False/BackendNotFound' });
    await until('/v2 answered 500 (its backend does not exist)', async () => ((await shop.client.get(`http://web.${SHOP}.plexus/v2`)).status === 500 ? true : undefined));
    await cluster.kubectl.apply(route('nowhere', 'no-such-service', `  - backendRefs: [{name: web-v1, port: 80}]
`));
    expect(await plexusStatus('nowhere')).to.deep.equal({ Accepted: 'False/NoMatchingParent', ResolvedRefs: 'True/ResolvedRefs' });
  });

  it('own names: with plexus.dev/own-names, web, web.shop and web.shop.svc.cluster.local reach the caller\'s agent; the ClusterIP dialled directly does not', async () => {
    await cluster.kubectl.apply(route('web-paths', 'web', `  - matches: [{path: {type: Exact, value: /v2}}]
    backendRefs: [{name: web-v2, port: 80}]
`));
    await cluster.kubectl.ok(['annotate', '--overwrite', 'service', '-n', SHOP, 'web', 'plexus.dev/own-names=true']);
    try {
      const shadow = await until('the shadow Service of web has a ClusterIP', async () => {
        const list = await cluster.kubectl.get<{ items: { spec: { clusterIP?: string } }[] }>(['service', '-n', 'plexus', '-l', `plexus.dev/shadow-of-namespace=${SHOP},plexus.dev/shadow-of-name=web`]);
        return list?.items[0]?.spec.clusterIP || undefined;
      });
      // The hosts file reaches the CoreDNS pods at the kubelet's next ConfigMap sync (about a minute).
      await until(`web.${SHOP}.svc.cluster.local resolves to the shadow ClusterIP ${shadow}`, async () => {
        const addresses = await shop.client.resolve(`web.${SHOP}.svc.cluster.local`);
        return addresses.length === 1 && addresses[0] === shadow ? true : undefined;
      }, 240_000);
      for (const name of ['web', `web.${SHOP}`, `web.${SHOP}.svc.cluster.local`]) {
        await until(`http://${name}/v2 answered by web-v2 and http://${name}/ refused with 404 by the route`, async () => {
          const [v2, other] = [await shop.client.get(`http://${name}/v2`), await shop.client.get(`http://${name}/`)];
          if (v2.status !== 200 || !v2.body.startsWith('web-v2') || other.status !== 404) throw new Error(`/v2 ${v2.status} ${v2.body}; / ${other.status} ${other.body}`);
          return true;
        });
      }
      const own = await cluster.kubectl.get<{ spec: { clusterIP: string } }>(['service', '-n', SHOP, 'web']);
      const direct = await shop.client.get(`http://${own?.spec.clusterIP}/`);
      expect(direct.status, 'the ClusterIP dialled directly goes to the pods, past the mesh').to.equal(200);
    } finally {
      await cluster.kubectl.ok(['annotate', 'service', '-n', SHOP, 'web', 'plexus.dev/own-names-']);
    }
  });
});
