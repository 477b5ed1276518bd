/**
 * How the observing commands (stat, tap, top, dashboard) reach the agents' admin endpoints:
 * `--admin URL` (repeatable) for agents on this machine, else every ready agent of the cluster
 * through the API server's pod proxy, with the user's kubeconfig, as `plexus check` does. Taps
 * in a cluster send the mesh's tap token (Secret `plexus-tap`, read with the user's credentials).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiClient, KubeApiError } from '../../kube/api-client.js';
import { AGENT_POD_SELECTOR } from '../../kube/labels.js';
import { TAP_TOKEN_HEADER } from '../../node-agent/admin/tap-endpoint.js';

/** The agent's admin port in a cluster (manifests/40-daemonset.yaml). */
export const AGENT_ADMIN_PORT = 9901;
export const TAP_SECRET_NAME = 'plexus-tap';
export const TAP_SECRET_KEY = 'token';
const REQUEST_TIMEOUT_MS = 10_000;

/** An answer of an agent: status and body (a stream for /tap). */
export interface AgentAnswer {
  readonly status: number;
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

export interface AgentAccess {
  /** Where the agents are, for messages: `http://127.0.0.1:9901` or `the cluster (namespace plexus)`. */
  readonly description: string;
  /** The agents to ask now (names: URLs or pod names). */
  agents(): Promise<string[]>;
  /** GET an admin path (`metrics`, `tap?service=…`) of one agent. */
  get(agent: string, path: string, signal: AbortSignal): Promise<AgentAnswer>;
}

/** An agent's body as text, failing with its status and first words unless 2xx. */
export async function agentText(access: AgentAccess, agent: string, path: string, signal?: AbortSignal): Promise<string> {
  const answer = await access.get(agent, path, signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS));
  const text = await answer.text();
  if (answer.status < 200 || answer.status >= 300) throw new Error(`agent ${agent}: /${path.split('?')[0]} answered ${answer.status}: ${agentReason(text)}`);
  return text;
}

/** What an agent's error answer says: its JSON `error`/`message`, else the start of the text. */
export function agentReason(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    const said = parsed.error ?? parsed.message;
    if (typeof said === 'string') return said;
  } catch {
    // Not JSON: the text itself.
  }
  return text.trim().slice(0, 200) || '(empty)';
}

export class LocalAgents implements AgentAccess {
  readonly description: string;
  readonly #urls: readonly string[];

  constructor(urls: readonly string[]) {
    this.#urls = urls.map((url) => url.replace(/\/+$/, ''));
    this.description = this.#urls.join(', ');
  }

  agents(): Promise<string[]> {
    return Promise.resolve([...this.#urls]);
  }

  async get(agent: string, path: string, signal: AbortSignal): Promise<AgentAnswer> {
    let response: Response;
    try {
      response = await fetch(`${agent}/${path}`, { signal });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new Error(`cannot reach the agent at ${agent}: ${cause} (is it running? see --admin)`);
    }
    return { status: response.status, body: response.body, text: () => response.text() };
  }
}

export class ClusterAgents implements AgentAccess {
  readonly description: string;
  readonly #client: ApiClient;
  readonly #namespace: string;
  #tapToken: Promise<string> | null = null;

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.#client = new ApiClient(kubeConfig, { timeoutMs: REQUEST_TIMEOUT_MS });
    this.#namespace = namespace;
    this.description = `the agents of namespace ${namespace} (through the API server's pod proxy)`;
  }

  async agents(): Promise<string[]> {
    const selector = Object.entries(AGENT_POD_SELECTOR).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await this.#client.get(`/api/v1/namespaces/${this.#namespace}/pods`, { labelSelector: selector }) as { items?: PodView[] };
    return (list.items ?? []).filter(isReady).map((pod) => pod.metadata?.name ?? '').filter((name) => name !== '').sort();
  }

  async get(agent: string, path: string, signal: AbortSignal): Promise<AgentAnswer> {
    // The debug endpoints (tap, config) answer the pod proxy only with the mesh's tap token.
    const headers: Record<string, string> = path.startsWith('tap') || path === 'config' ? { [TAP_TOKEN_HEADER]: await this.#token() } : {};
    const response = await this.#client.open(`/api/v1/namespaces/${this.#namespace}/pods/${agent}:${AGENT_ADMIN_PORT}/proxy/${path}`, headers, signal);
    return { status: response.status, body: response.body as ReadableStream<Uint8Array> | null, text: () => response.text() };
  }

  #token(): Promise<string> {
    this.#tapToken ??= this.#readToken();
    return this.#tapToken;
  }

  async #readToken(): Promise<string> {
    const where = `Secret ${this.#namespace}/${TAP_SECRET_NAME}`;
    let secret: { data?: Record<string, string> };
    try {
      secret = await this.#client.get(`/api/v1/namespaces/${this.#namespace}/secrets/${TAP_SECRET_NAME}`) as typeof secret;
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) throw new Error(`no ${where}: run plexus prepare to create the mesh's tap token`);
      if (error instanceof KubeApiError && error.code === 403) throw new Error(`your credentials may not read ${where}, which tapping needs (docs/cli.md#who-may-tap)`);
      throw error;
    }
    const token = Buffer.from(secret.data?.[TAP_SECRET_KEY] ?? '', 'base64').toString('utf8').trim();
    if (token === '') throw new Error(`${where} has no "${TAP_SECRET_KEY}": delete it and run plexus prepare again`);
    return token;
  }
}

interface PodView {
  readonly metadata?: { readonly name?: string };
  readonly status?: { readonly conditions?: ReadonlyArray<{ readonly type?: string; readonly status?: string }> };
}

function isReady(pod: PodView): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
