/**
 * A cluster agent's credentials: the trusted roots from the ConfigMap `plexus-ca-bundle`
 * (re-read every `reloadMs`, so a rotation reaches every agent without a restart) and
 * certificates from the leader's issuer. The agent never reads the CA key.
 */
import { X509Certificate } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ApiClient } from '../../kube/api-client.js';
import { uriSans } from '../spiffe.js';
import type { CredentialsFactory } from '../secure-mode.js';
import { CA_BUNDLE_CONFIGMAP_NAME } from './ca-objects.js';
import { readTrustBundle } from './ca-store.js';
import { IssuerClient } from './issuer-client.js';
import { bearerToken, locateLeader } from './kube-lookups.js';
import { typedClient } from '../../kube/typed-client.js';

export interface ClusterCredentialsOptions {
  readonly kubeConfig: KubeConfig;
  readonly client: ApiClient;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly issuerPort: number;
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
    const core = typedClient(options.kubeConfig, CoreV1Api);
    const source = `ConfigMap ${options.namespace}/${CA_BUNDLE_CONFIGMAP_NAME}`;
    const read = async (): Promise<Bundle> => {
      const pems = await readTrustBundle(core, options.namespace);
      if (pems === null) throw new Error(`no ${source}: create the mesh CA with plexus prepare`);
      return parseBundle(pems, source, options.trustDomain);
    };
    let bundle = await read();
    let timer: NodeJS.Timeout | null = null;
    const issuer = new IssuerClient({
      locateLeader: () => locateLeader(options.client, options.namespace),
      port: options.issuerPort,
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
