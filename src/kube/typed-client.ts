/**
 * client-node's typed API clients (its kubeconfig, authentication, transport and types) with
 * what every request of ours has: a timeout, and an abort when the caller stops. A hung API
 * server then fails the call (`no answer from the API server within 30 s`) instead of holding
 * the caller for ever. Every typed client in src/ is made here (the architecture test holds it).
 */
import { Observable, type ApiConstructor, type ApiType, type KubeConfig, type RequestContext, type ResponseContext } from '@kubernetes/client-node';
import { DEFAULT_REQUEST_TIMEOUT_MS, type ApiClientOptions } from './api-client.js';

/** What client-node's Object-style methods take as their second argument. */
interface CallOptions {
  readonly middleware?: readonly unknown[];
  readonly middlewareMergeStrategy?: 'replace' | 'append' | 'prepend';
  readonly [option: string]: unknown;
}

type Method = (param?: unknown, options?: CallOptions) => Promise<unknown>;

/** Runs before each request is sent (client-node's middleware contract): gives it a fresh timeout, tied to the caller's signal. */
function boundedRequests(timeoutMs: number, signal: AbortSignal | undefined): { pre(context: RequestContext): Observable<RequestContext>; post(context: ResponseContext): Observable<ResponseContext> } {
  return {
    pre: (context) => {
      context.setSignal(AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]));
      return new Observable(Promise.resolve(context));
    },
    post: (context) => new Observable(Promise.resolve(context)),
  };
}

function timeoutMessage(error: unknown, timeoutMs: number): unknown {
  const name = error instanceof Error ? error.name : '';
  return name === 'TimeoutError' ? new Error(`no answer from the API server within ${timeoutMs / 1000} s`, { cause: error }) : error;
}

/** `kubeConfig.makeApiClient(type)`, every call of which is bounded by `options.timeoutMs` (default 30 s) and `options.signal`. */
export function typedClient<T extends ApiType>(kubeConfig: KubeConfig, type: ApiConstructor<T>, options: ApiClientOptions = {}): T {
  const api = kubeConfig.makeApiClient(type);
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const bound = boundedRequests(timeoutMs, options.signal);
  return new Proxy(api, {
    get(target, property, receiver): unknown {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as Method;
      return (param?: unknown, callOptions: CallOptions = {}): Promise<unknown> =>
        method.call(target, param ?? {}, {
          ...callOptions,
          middleware: [...(callOptions.middleware ?? []), bound],
          middlewareMergeStrategy: callOptions.middlewareMergeStrategy ?? 'append',
        }).catch((error: unknown) => {
          throw timeoutMessage(error, timeoutMs);
        });
    },
  });
}
