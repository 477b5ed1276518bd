/**
 * A cluster agent's credentials: the trusted roots from the ConfigMap `plexus-ca-bundle`
 * (re-read every `reloadMs`, so a rotation reaches every agent without a restart) and
 * certificates from the issuer (the Service `plexus-issuer`). The agent never reads the CA key
 * (its ServiceAccount may not).
 */
import { X509Certificate } from 'node:crypto';
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { getOrNull, type ApiClient } from '../../kube/api-client.js';
import { uriSans } from '../spiffe.js';
import type { CredentialsFactory } from '../secure-mode.js';
import { CA_BUNDLE_CONFIGMAP_NAME, CA_BUNDLE_KEY, rootsFromBundle } from './ca-bundle.js';
import { IssuerClient } from './issuer-client.js';

export interface ClusterCredentialsOptions {
  readonly kubeConfig: KubeConfig;
  readonly client: ApiClient;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly issuer: { readonly host: string; readonly port: number };
  /** How often the bundle is re-read; default 10 s. */
  readonly reloadMs?: number;
}

interface Bundle {
  readonly pems: string[];
  readonly certs: X509Certificate[];
}

function parseBundle(pems: string[], source: string, trustDomain: string): Bundle {
  if (pems.length === 0) throw new Error(`${source} holds no root`);
  const certs = pems.map((pem) => new X509Certificate(pem));
  for (const cert of certs) {
    if (!uriSans(cert.subjectAltName).includes(`spiffe://${trustDomain}`)) {
      throw new Error(`${source}: root "${cert.subject.replaceAll('\n', ', ')}" is not of trust domain ${trustDomain} (see --trust-domain)`);
    }
  }
  return { pems, certs };
}

export function clusterCredentials(options: ClusterCredentialsOptions): CredentialsFactory {
  return async ({ metrics, logger }) => {
    const source = `ConfigMap ${options.namespace}/${CA_BUNDLE_CONFIGMAP_NAME}`;
    const path = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/configmaps/${CA_BUNDLE_CONFIGMAP_NAME}`;
    const read = async (): Promise<Bundle> => {
      const map = await getOrNull(options.client, path) as { data?: Record<string, string> } | null;
      if (map === null) throw new Error(`no ${source}: create the mesh CA with plexus prepare`);
      return parseBundle(rootsFromBundle(map.data?.[CA_BUNDLE_KEY] ?? ''), source, options.trustDomain);
    };
    let bundle = await read();
    let timer: NodeJS.Timeout | null = null;
    const issuer = new IssuerClient({
      issuer: options.issuer,
      token: () => bearerToken(options.kubeConfig),
      trustBundle: () => bundle.pems,
      trustDomain: options.trustDomain,
      metrics,
    });
    return {
      issue: issuer.issue,
      trustBundle: () => bundle.pems,
      roots: () => ({ cert: bundle.certs[0]!, previousCert: bundle.certs[1] ?? null }),
      start: (onChange) => {
        const reload = async (): Promise<void> => {
          try {
            const next = await read();
            if (next.pems.join() === bundle.pems.join()) return;
            bundle = next;
            onChange();
          } catch (err) {
            logger.error({ err: (err as Error).message }, 'trust bundle not readable: the last good roots stay in use');
          }
        };
        timer = setInterval(() => void reload(), options.reloadMs ?? 10_000);
        timer.unref();
      },
      stop: () => {
        if (timer !== null) clearInterval(timer);
      },
    };
  };
}

/**
 * The agent's own ServiceAccount token, as client-node sends it to the API server (in a pod: the
 * projected token file, re-read as it rotates). It is bound to this pod, which is what the issuer checks.
 */
export async function bearerToken(kubeConfig: KubeConfig): Promise<string> {
  const context = new RequestContext(kubeConfig.getCurrentCluster()?.server ?? 'https://kubernetes.default.svc', HttpMethod.POST);
  await kubeConfig.applySecurityAuthentication(context);
  const token = /^Bearer (\S+)$/.exec(context.getHeaders()['Authorization'] ?? '')?.[1];
  if (token === undefined) throw new Error('the agent has no ServiceAccount token to prove who it is (secure mode needs the pod\'s token)');
  return token;
}
