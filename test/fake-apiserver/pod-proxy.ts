/**
 * The pods/proxy subresource, GET only: `/api/v1/namespaces/{ns}/pods/{name}[:port]/proxy/{path}`
 * (`name` may also be `http:name:port`) forwards to the pod's `status.podIP` and relays the
 * answer's status and body, as the real server does. No pod → 404; nothing listening → 503.
 */
import type { JsonObject } from './patch.js';
import * as status from './status.js';

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/proxy(\/.*)?$/;

export interface ProxyTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly path: string;
}

export function proxyTarget(pathname: string, search: string): ProxyTarget | null {
  const match = PROXY_PATH.exec(pathname);
  if (match === null) return null;
  const parts = decodeURIComponent(match[2]!).split(':');
  const [name, port] = parts.length === 3 ? [parts[1]!, parts[2]!] : [parts[0]!, parts[1] ?? '80'];
  return { namespace: decodeURIComponent(match[1]!), name, port: Number(port), path: `${match[3] ?? '/'}${search}` };
}

/** Forwards to the pod; `pod` is the stored object or undefined. */
export async function forward(target: ProxyTarget, pod: JsonObject | undefined): Promise<{ code: number; body: string; contentType: string }> {
  if (pod === undefined) throw status.notFound('pods', '', target.name);
  const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
  if (!ip) throw status.failure(503, 'ServiceUnavailable', `pod ${target.name} has no IP yet`);
  let answer: Response;
  try {
    answer = await fetch(`http://${ip.includes(':') ? `[${ip}]` : ip}:${target.port}${target.path}`);
  } catch (error) {
    throw status.failure(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${ip}:${target.port}: ${String((error as Error).cause ?? error)}`);
  }
  return { code: answer.status, body: await answer.text(), contentType: answer.headers.get('content-type') ?? 'text/plain' };
}
