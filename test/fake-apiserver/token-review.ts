/**
 * authentication.k8s.io/v1 TokenReview (create only), as the real API server answers it: a
 * token the test registered authenticates as its user, for its audiences; any other token (or an
 * audience mismatch) is `authenticated` absent (false) with an `error`, and an empty `user`.
 * The server authenticates nothing else with these tokens (see README.md).
 */
import { isObject, type JsonObject } from './patch.js';
import * as status from './status.js';

export interface TokenUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  /** e.g. `authentication.kubernetes.io/pod-name`, `.../pod-uid`, `.../node-name` for a pod-bound token. */
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The audiences of a default ServiceAccount token: the API server's own. */
export const API_SERVER_AUDIENCES: readonly string[] = ['https://kubernetes.default.svc.cluster.local'];

interface Registered {
  readonly user: TokenUser;
  readonly audiences: readonly string[];
}

export class TokenAuthenticator {
  readonly #tokens = new Map<string, Registered>();

  register(token: string, user: TokenUser, audiences: readonly string[] = API_SERVER_AUDIENCES): void {
    this.#tokens.set(token, { user, audiences });
  }

  /** The token no longer authenticates (deleted ServiceAccount or pod, expired token). */
  revoke(token: string): void {
    this.#tokens.delete(token);
  }

  review(body: JsonObject): JsonObject {
    if (body.kind !== undefined && body.kind !== 'TokenReview') throw status.badRequest(`TokenReview in version "v1" cannot be handled as a ${String(body.kind)}`);
    const spec = isObject(body.spec) ? body.spec : {};
    const token = typeof spec.token === 'string' ? spec.token : '';
    if (token === '') throw status.badRequest('token is required for TokenReview in authentication');
    const wanted = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.filter((a): a is string => typeof a === 'string') : [...API_SERVER_AUDIENCES];
    const answer = (result: JsonObject): JsonObject => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec, status: result });
    const registered = this.#tokens.get(token);
    if (registered === undefined) return answer({ user: {}, error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' });
    const audiences = wanted.filter((a) => registered.audiences.includes(a));
    if (audiences.length === 0) {
      return answer({ user: {}, error: `[invalid bearer token, token audiences ${JSON.stringify(registered.audiences)} is invalid for the target audiences ${JSON.stringify(wanted)}]` });
    }
    const { user } = registered;
    return answer({
      authenticated: true,
      user: {
        username: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.groups ? { groups: [...user.groups] } : {}),
        ...(user.extra ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) } : {}),
      },
      audiences,
    });
  }
}
