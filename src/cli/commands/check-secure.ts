/**
 * The secure-mode checks of `plexus check`: the mesh CA (its roots near their end, the Secret's
 * root published to the agents), what the agents report (the `secure` summary of their public
 * `/readyz`, through the API server's pod proxy: permissive mode, certificate findings counted;
 * the findings themselves are in `/config`, loopback only), and the
 * NetworkPolicies the leader wrote (effective only where the network plugin enforces them).
 * Reads only, with the user's credentials. Pure reading of answers here; check.ts runs them.
 */
import { X509Certificate } from 'node:crypto';
import { ApiException, AppsV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { AGENT_DAEMONSET, AGENT_POD_SELECTOR, ISSUER_DEPLOYMENT, SECURE_ANNOTATION } from '../../kube/labels.js';
import { podRunsSecure } from '../../secure/cluster/agent-pods.js';
import { caFromSecret, CA_SECRET_NAME } from '../../issuer/ca-objects.js';
import { CA_BUNDLE_CONFIGMAP_NAME, CA_BUNDLE_KEY, rootsFromBundle } from '../../secure/cluster/ca-bundle.js';
import { POLICY_SELECTOR } from '../../cluster/network-policies.js';
import { secureFindings, type SecureFinding } from '../../secure/health.js';
import { proxyAnswerObject } from './proxy-answer.js';
import { issuerReplicas } from './secure.js';
import { typedClient } from '../../kube/typed-client.js';

export interface SecureOutcome {
  readonly status: 'ok' | 'warn' | 'FAIL' | 'skip';
  readonly detail: string;
  readonly hint?: string;
}

/** The agent's admin port (manifests/40-daemonset.yaml). */
const ADMIN_PORT = 9901;
/** Agents asked at most: enough to see a pattern, bounded for large clusters. */
const AGENTS_ASKED = 20;
const SHOWN = 3;

const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

function summarize(findings: readonly SecureFinding[], good: string, hint: string): SecureOutcome {
  const errors = findings.filter((f) => f.severity === 'error');
  const shown = (list: readonly SecureFinding[]): string => list.slice(0, SHOWN).map((f) => f.message).join('; ') + (list.length > SHOWN ? '; …' : '');
  if (errors.length > 0) return { status: 'FAIL', detail: shown(errors), hint };
  if (findings.length > 0) return { status: 'warn', detail: shown(findings), hint };
  return { status: 'ok', detail: good };
}

/**
 * Where the mesh stands: what the agent pod template asks for (`plexus.dev/secure`), how many
 * running agents run secure mode (a rollout in progress switches them one node at a time), and,
 * when secure mode is on, whether the issuer has a ready replica.
 */
export async function checkSecureMode(kc: KubeConfig, namespace: string): Promise<SecureOutcome> {
  let wanted: string | undefined;
  try {
    const ds = await typedClient(kc, AppsV1Api).readNamespacedDaemonSet({ namespace, name: AGENT_DAEMONSET });
    wanted = ds.spec?.template.metadata?.annotations?.[SECURE_ANNOTATION];
  } catch (err) {
    if (isStatus(err, 404)) return { status: 'skip', detail: `no DaemonSet ${namespace}/${AGENT_DAEMONSET}` };
    throw err;
  }
  const selector = Object.entries(AGENT_POD_SELECTOR).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = (await typedClient(kc, CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector })).items
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const secure = pods.filter((p) => podRunsSecure(p)).length;
  const agents = `${secure} of ${pods.length} agents run secure mode`;
  const rollout = `kubectl -n ${namespace} rollout status daemonset/${AGENT_DAEMONSET}`;
  if (wanted === undefined) {
    return { status: 'warn', detail: `the agent pod template has no ${SECURE_ANNOTATION} annotation (manifests of an older version?); ${agents}`, hint: 'kubectl apply -f manifests/40-daemonset.yaml' };
  }
  if (wanted !== 'true') {
    if (secure > 0) return { status: 'warn', detail: `switching off: ${agents} (the agents are rolling out)`, hint: rollout };
    return { status: 'skip', detail: 'off: no agent runs secure mode (plexus secure on switches it on)' };
  }
  const issuer = await issuerReplicas(kc, namespace);
  if (issuer === null) return { status: 'FAIL', detail: `on, but there is no issuer (Deployment ${namespace}/${ISSUER_DEPLOYMENT}): agents cannot get or renew certificates`, hint: 'kubectl apply -f manifests/45-issuer.yaml' };
  if (issuer.ready === 0) {
    return { status: 'FAIL', detail: `on, but no issuer replica is ready: agents cannot get or renew certificates; ${agents}`, hint: `kubectl -n ${namespace} logs deploy/${ISSUER_DEPLOYMENT} (no CA? run plexus prepare)` };
  }
  const issuers = `issuer ${issuer.ready} of ${issuer.wanted} ready`;
  if (secure < pods.length) {
    return { status: 'warn', detail: `switching on: ${agents} (the agents are rolling out; traffic to the nodes of plain agents is not tunnelled until they are done); ${issuers}`, hint: rollout };
  }
  return { status: 'ok', detail: `on: ${agents}; ${issuers}` };
}

/** The roots of the trust bundle (and, when the Secret is readable, that its root is among them). */
export async function checkMeshCa(kc: KubeConfig, namespace: string, now = Date.now()): Promise<SecureOutcome> {
  const core = typedClient(kc, CoreV1Api);
  let text: string | undefined;
  try {
    text = (await core.readNamespacedConfigMap({ namespace, name: CA_BUNDLE_CONFIGMAP_NAME })).data?.[CA_BUNDLE_KEY];
  } catch (err) {
    if (isStatus(err, 404)) return { status: 'skip', detail: `no ConfigMap ${namespace}/${CA_BUNDLE_CONFIGMAP_NAME}: secure mode is not set up (plexus prepare creates the mesh CA)` };
    throw err;
  }
  const roots = rootsFromBundle(text ?? '').map((pem) => new X509Certificate(pem));
  if (roots.length === 0) return { status: 'FAIL', detail: `ConfigMap ${namespace}/${CA_BUNDLE_CONFIGMAP_NAME} holds no root`, hint: 'run: plexus prepare' };
  const findings = secureFindings({ cert: roots[0]!, previousCert: roots[1] ?? null }, [], now);
  let secretRead = false;
  try {
    const secret = await core.readNamespacedSecret({ namespace, name: CA_SECRET_NAME });
    const ca = caFromSecret({ type: secret.type ?? 'Opaque', data: secret.data ?? {} }, `Secret ${namespace}/${CA_SECRET_NAME}`);
    secretRead = true;
    if (!roots.some((root) => root.fingerprint256 === ca.cert.fingerprint256)) {
      findings.push({ severity: 'error', message: `the signing root of Secret ${namespace}/${CA_SECRET_NAME} is not in the trust bundle: agents refuse the certificates the leader signs` });
    }
  } catch (err) {
    // Your credentials may not read Secrets (the check then relies on the public bundle), or the
    // Secret is gone (the leader logs that it cannot issue).
    if (!isStatus(err, 403) && !isStatus(err, 404)) throw err;
  }
  const root = roots[0]!;
  const rotating = roots.length > 1 ? `; rotation in progress (${roots.length - 1} old root still trusted: plexus ca retire when done)` : '';
  const good = `root "${root.subject.replaceAll('\n', ', ')}" valid until ${new Date(root.validTo).toISOString()}${rotating}${!secretRead ? ' (Secret not readable with your credentials: checked the published roots)' : ''}`;
  return summarize(findings, good, 'rotate the CA with: plexus ca rotate (then plexus ca retire a day later)');
}

interface AgentSecureView {
  readonly permissive: boolean;
  /** Certificate findings by severity (their messages are in the agent's /config). */
  readonly findings: { readonly error: number; readonly warning: number };
}

/**
 * The `secure` summary of an agent's /readyz answer; null when the agent does not run secure
 * mode (or the answer is not a readiness).
 */
export function secureViewOf(body: unknown): AgentSecureView | null {
  const secure = proxyAnswerObject(body)?.secure;
  if (typeof secure !== 'object' || secure === null || !('permissive' in secure)) return null;
  const { permissive, findings } = secure as { permissive?: unknown; findings?: { error?: unknown; warning?: unknown } };
  const count = (value: unknown): number => (typeof value === 'number' && value >= 0 ? value : 0);
  return { permissive: permissive === true, findings: { error: count(findings?.error), warning: count(findings?.warning) } };
}

/** What the ready agents say about their certificates and permissive mode. */
export async function checkSecureAgents(kc: KubeConfig, namespace: string): Promise<SecureOutcome> {
  const core = typedClient(kc, CoreV1Api);
  const selector = Object.entries(AGENT_POD_SELECTOR).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
  const ready = pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.metadata?.name ?? '').filter((n) => n !== '');
  if (ready.length === 0) return { status: 'skip', detail: 'no ready agent to ask' };
  const asked = ready.slice(0, AGENTS_ASKED);
  const findings: SecureFinding[] = [];
  const permissive: string[] = [];
  let secure = 0;
  let reached = 0;
  for (const name of asked) {
    let body: unknown;
    try {
      body = await core.connectGetNamespacedPodProxyWithPath({ namespace, name: `${name}:${ADMIN_PORT}`, path: 'readyz' });
    } catch (err) {
      if (isStatus(err, 404) || isStatus(err, 403) || isStatus(err, 503)) continue;
      throw err;
    }
    reached++;
    const view = secureViewOf(body);
    if (view === null) continue;
    secure++;
    if (view.permissive) permissive.push(name);
    for (const severity of ['error', 'warning'] as const) {
      const n = view.findings[severity];
      if (n > 0) findings.push({ severity, message: `${name}: ${n} certificate ${severity}${n === 1 ? '' : 's'} (kubectl -n ${namespace} port-forward pod/${name} ${ADMIN_PORT}, then curl http://127.0.0.1:${ADMIN_PORT}/config)` });
    }
  }
  if (reached === 0) return { status: 'skip', detail: `cannot reach the agents through the API server's pod proxy` };
  const of = `${secure} of ${reached} agents asked${ready.length > asked.length ? ` (of ${ready.length} ready)` : ''}`;
  if (secure === 0) return { status: 'skip', detail: `${of} run secure mode: none (agent --secure is off)` };
  if (permissive.length > 0) {
    findings.push({ severity: 'warning', message: `permissive mode is ON on ${permissive.slice(0, SHOWN).join(', ')}${permissive.length > SHOWN ? ', …' : ''}: plaintext callers get into the tunnel port (migration only)` });
  }
  return summarize(findings, `${of} run secure mode; permissive mode off; certificates current`,
    'kubectl -n ' + namespace + ' logs <agent> (renewal failing?); turn --permissive off once every agent runs --secure');
}

/** The leader's NetworkPolicies, and what they depend on. */
export async function checkNetworkPolicies(kc: KubeConfig): Promise<SecureOutcome> {
  const list = await typedClient(kc, NetworkingV1Api).listNetworkPolicyForAllNamespaces({ labelSelector: POLICY_SELECTOR });
  const count = list.items.length;
  if (count === 0) return { status: 'skip', detail: 'none written (the leader writes them only in secure mode)' };
  return {
    status: 'ok',
    detail: `${count} written by the leader, admitting only the agents to meshed pods; note: they take effect only where the network plugin enforces NetworkPolicy (Plexus cannot tell whether yours does)`,
  };
}
