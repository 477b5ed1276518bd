/**
 * The mesh's tap token (docs/cli.md#who-may-tap): `plexus prepare` creates Secret `plexus-tap`
 * in the mesh namespace when there is none (never replacing one); the agents get it as a file
 * (manifests/40-daemonset.yaml mounts it) and `plexus tap` reads it with the user's credentials.
 */
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { typedClient } from '../../kube/typed-client.js';
import { TAP_SECRET_KEY, TAP_SECRET_NAME } from '../observe/agents.js';

export async function prepareTapToken(kc: KubeConfig, namespace: string): Promise<string> {
  const core = typedClient(kc, CoreV1Api);
  try {
    await core.readNamespacedSecret({ namespace, name: TAP_SECRET_NAME });
    return `tap token: Secret ${namespace}/${TAP_SECRET_NAME} exists; left as it is`;
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 404)) throw err;
  }
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: TAP_SECRET_NAME, labels: { 'app.kubernetes.io/part-of': 'plexus', 'app.kubernetes.io/managed-by': 'plexus' } },
        type: 'Opaque',
        data: { [TAP_SECRET_KEY]: Buffer.from(randomBytes(32).toString('hex')).toString('base64') },
      },
    });
  } catch (err) {
    // Created meanwhile (another prepare): theirs stands.
    if (err instanceof ApiException && err.code === 409) return `tap token: Secret ${namespace}/${TAP_SECRET_NAME} exists; left as it is`;
    throw err;
  }
  return `tap token: created Secret ${namespace}/${TAP_SECRET_NAME} (the agents read it within a minute: plexus tap needs it)`;
}

/** `plexus cleanup`: deletes Secret `plexus-tap` when Plexus made it (a token you brought is kept). */
export async function cleanupTapToken(kc: KubeConfig, namespace: string): Promise<string> {
  const core = typedClient(kc, CoreV1Api);
  const where = `Secret ${namespace}/${TAP_SECRET_NAME}`;
  let labels: Record<string, string> | undefined;
  try {
    labels = (await core.readNamespacedSecret({ namespace, name: TAP_SECRET_NAME })).metadata?.labels;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return 'tap token: none left';
    throw err;
  }
  if (labels?.['app.kubernetes.io/managed-by'] !== 'plexus') return `tap token: kept ${where} (not made by Plexus: no app.kubernetes.io/managed-by=plexus label)`;
  try {
    await core.deleteNamespacedSecret({ namespace, name: TAP_SECRET_NAME });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return 'tap token: none left';
    throw err;
  }
  return `tap token: deleted ${where}`;
}
