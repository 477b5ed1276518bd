/**
 * The pods/proxy subresource, GET only: `/api/v1/namespaces/{ns}/pods/{name}[:port]/proxy/{path}`
 * (`name` may also be `http:name:port`) forwards to the pod's `status.podIP` and relays the
 * answer's status and body as it comes (a stream stays a stream), as the real server does. The
 * request's own headers go along, except the credentials the API server consumed
 * (`Authorization`) and hop-by-hop ones. No pod → 404; nothing listening → 503.
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

/** Request headers the proxy does not pass on. */
const NOT_FORWARDED = new Set(['authorization', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

export interface ProxyAnswer {
  readonly code: number;
  readonly contentType: string;
  readonly body: ReadableStream<Uint8Array> | null;
}

/** Forwards to the pod; `pod` is the stored object or undefined; `signal` ends the relay. */
export async function forward(target: ProxyTarget, pod: JsonObject | undefined, headers: Readonly<Record<string, string | string[] | undefined>>, signal: AbortSignal): Promise<ProxyAnswer> {
  if (pod === undefined) throw status.notFound('pods', '', target.name);
  const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
  if (!ip) throw status.failure(503, 'ServiceUnavailable', `pod ${target.name} has no IP yet`);
  let answer: Response;
  try {
    const sent: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined && !NOT_FORWARDED.has(name)) sent[name] = Array.isArray(value) ? value.join(', ') : value;
    answer = await fetch(`http://${ip.includes(':') ? `[${ip}]` : ip}:${target.port}${target.path}`, { headers: sent, signal });
  } catch (error) {
    throw status.failure(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${ip}:${target.port}: ${String((error as Error).cause ?? error)}`);
  }
  return { code: answer.status, body: answer.body, contentType: answer.headers.get('content-type') ?? 'text/plain' };
}
