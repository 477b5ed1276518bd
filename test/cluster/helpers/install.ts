/**
 * Installing Plexus as a user does: `kubectl apply -f manifests/` with the DaemonSet's `image:`
 * set to the image under test (as docs/install.md says to for your own registry) and, when a
 * test asks, agent arguments added (`--acl`, `--secure`: what docs/install.md says to edit);
 * uninstalling with `kubectl delete -f manifests/` and `plexus cleanup`.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { runPlexus, type RunResult } from '../../e2e/helpers/plexus.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import type { TestCluster } from './cluster.js';

export const MESH_NAMESPACE = 'plexus';
const DAEMONSET = 'plexus-agent';
const SECURE_ANNOTATION = 'plexus.dev/secure';

interface Container {
  image: string;
  args: string[];
}

/** manifests/ copied to a temporary folder, the DaemonSet's image and arguments set, and the issuer Deployment's image. */
export function renderManifests(image: string, extraArgs: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-manifests-'));
  const source = join(REPO_ROOT, 'manifests');
  for (const file of readdirSync(source).filter((f) => /\.ya?ml$/.test(f))) {
    const docs = parseAllDocuments(readFileSync(join(source, file), 'utf8'));
    const text = docs.map((doc) => {
      const object = doc.toJS() as { kind?: string; spec?: { template: { spec: { containers: Container[] } } } };
      if (object.kind === 'Deployment') {
        object.spec!.template.spec.containers[0]!.image = image;
        return stringify(object);
      }
      if (object.kind !== 'DaemonSet') return doc.toString();
      const agent = object.spec!.template.spec.containers[0]!;
      agent.image = image;
      agent.args = [...agent.args, ...extraArgs];
      return stringify(object);
    }).join('---\n');
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

interface Installed {
  readonly image: string;
  readonly args: string[];
  /** The pod template's `plexus.dev/secure` (secure mode on or off: `plexus secure on|off`). */
  readonly secure: string | undefined;
}

/** What the installed DaemonSet runs (image, agent arguments, secure mode), or null when Plexus is not installed. */
export async function installedArgs(cluster: TestCluster): Promise<Installed | null> {
  const ds = await cluster.kubectl.get<{ spec: { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: Container[] } } } }>(['daemonset', '-n', MESH_NAMESPACE, DAEMONSET]);
  const agent = ds?.spec.template.spec.containers[0];
  return agent === undefined ? null : { image: agent.image, args: agent.args, secure: ds?.spec.template.metadata.annotations?.[SECURE_ANNOTATION] };
}

/**
 * Waits until every node runs a ready agent of the DaemonSet's current template. When it does
 * not, the error says why: the mesh namespace's pods, their recent events and the last log lines
 * of every agent container (the stopped ones' too).
 */
export async function agentsRolledOut(cluster: TestCluster, timeoutSeconds = 240): Promise<void> {
  const status = await cluster.kubectl.run(['rollout', 'status', '-n', MESH_NAMESPACE, `daemonset/${DAEMONSET}`, `--timeout=${timeoutSeconds}s`], { timeoutMs: (timeoutSeconds + 10) * 1000 });
  if (status.code === 0) return;
  throw new Error(`the agents did not roll out in ${timeoutSeconds} s: ${status.stderr.trim() || status.stdout.trim()}\n${await meshState(cluster)}`);
}

/** What a person would look at when the mesh's pods are not ready. */
export async function meshState(cluster: TestCluster): Promise<string> {
  const show = async (title: string, args: readonly string[]): Promise<string> => {
    const out = await cluster.kubectl.run(args);
    return `--- ${title}\n${(out.stdout + out.stderr).trim()}`;
  };
  return (await Promise.all([
    show('pods', ['get', 'pods', '-n', MESH_NAMESPACE, '-o', 'wide']),
    show('events', ['get', 'events', '-n', MESH_NAMESPACE, '--sort-by=.lastTimestamp']),
    show('agent logs', ['logs', '-n', MESH_NAMESPACE, '-l', 'app.kubernetes.io/component=agent', '--tail=20', '--prefix', '--all-containers']),
    show('logs of agents that stopped', ['logs', '-n', MESH_NAMESPACE, '-l', 'app.kubernetes.io/component=agent', '--tail=20', '--prefix', '--previous']),
  ])).join('\n');
}

/**
 * `kubectl apply -f manifests/` (image under test, `extraArgs` added to the agent's) and waits for
 * the agents. Applying over an installation with other arguments is a rollout.
 */
export async function install(cluster: TestCluster, extraArgs: readonly string[] = []): Promise<void> {
  const dir = renderManifests(cluster.target.image, extraArgs);
  await cluster.kubectl.ok(['apply', '-f', `${dir}/`]);
  await cluster.kubectl.ok(['wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=plexus', '--timeout=60s'], { timeoutMs: 70_000 });
  await agentsRolledOut(cluster);
}

/**
 * Installs unless Plexus runs already as manifests/ installs it: the image under test, exactly
 * `extraArgs` added, and secure mode off (applying the manifests switches it back off: a rollout).
 */
export async function ensureInstalled(cluster: TestCluster, extraArgs: readonly string[] = []): Promise<void> {
  const current = await installedArgs(cluster);
  const wanted = [...renderedAgentArgs(), ...extraArgs];
  if (current !== null && current.image === cluster.target.image && current.args.join('\n') === wanted.join('\n') && current.secure === 'false') {
    await agentsRolledOut(cluster);
    return;
  }
  await install(cluster, extraArgs);
}

/** The agent arguments of manifests/40-daemonset.yaml as shipped. */
function renderedAgentArgs(): string[] {
  const doc = parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests', '40-daemonset.yaml'), 'utf8'))
    .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: { containers: Container[] } } } })
    .find((o) => o.kind === 'DaemonSet');
  return doc?.spec?.template.spec.containers[0]?.args ?? [];
}

/** `kubectl delete -f manifests/` (waiting for everything to go), then `plexus cleanup`. */
export async function uninstall(cluster: TestCluster): Promise<RunResult> {
  const dir = renderManifests(cluster.target.image, []);
  await cluster.kubectl.ok(['delete', '-f', `${dir}/`, '--ignore-not-found', '--wait=true', '--timeout=180s'], { timeoutMs: 200_000 });
  return runPlexus(['cleanup', '--kubeconfig', cluster.target.kubeconfig], 120_000, { KUBERNETES_SERVICE_HOST: '' });
}
