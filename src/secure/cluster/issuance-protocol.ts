/**
 * The wire format of the issuer's endpoint (HTTPS, HTTP/1.1; the issuer Deployment, reached
 * through the Service `plexus-issuer`):
 *
 *   POST /v1/certificates
 *   Authorization: Bearer <the agent pod's ServiceAccount token>
 *   {"requests": [{"identity": "ns/sa" | "node/<name>", "publicKey": "<SPKI PEM, EC P-256>"}]}
 *
 * 200 answers {"certificates": [{"identity", "certPem"}], "refused": [{"identity", "reason"}]}:
 * each identity is granted or refused on its own. 401 {"error"} when the token does not prove an
 * agent pod on a node; 400 {"error"} for a malformed request; 503 {"error"} while the issuer holds
 * no CA (the agent retries). The private keys never leave the
 * requesting agent.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

export const ISSUANCE_PATH = '/v1/certificates';
/** Enough for every ServiceAccount of a full node; more is refused as malformed. */
export const MAX_REQUESTS = 256;
export const MAX_BODY_BYTES = 256 * 1024;

export interface IdentityRequest {
  readonly identity: string;
  readonly publicKey: KeyObject;
}

export interface IssuanceAnswer {
  readonly certificates: readonly { readonly identity: string; readonly certPem: string }[];
  readonly refused: readonly { readonly identity: string; readonly reason: string }[];
}

export class MalformedRequestError extends Error {
  override readonly name = 'MalformedRequestError';
}

export function encodeRequest(requests: readonly { identity: string; publicKey: KeyObject }[]): string {
  return JSON.stringify({ requests: requests.map((r) => ({ identity: r.identity, publicKey: r.publicKey.export({ type: 'spki', format: 'pem' }).toString() })) });
}

export function parseRequest(body: string): IdentityRequest[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body) as unknown;
  } catch {
    throw new MalformedRequestError('the body is not JSON');
  }
  const list = typeof parsed === 'object' && parsed !== null ? (parsed as { requests?: unknown }).requests : undefined;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_REQUESTS) {
    throw new MalformedRequestError(`expected {"requests": [...]} with 1 to ${MAX_REQUESTS} entries`);
  }
  return list.map((entry: unknown, index) => {
    const { identity, publicKey } = (typeof entry === 'object' && entry !== null ? entry : {}) as { identity?: unknown; publicKey?: unknown };
    if (typeof identity !== 'string' || typeof publicKey !== 'string') throw new MalformedRequestError(`requests[${index}]: expected identity and publicKey strings`);
    let key: KeyObject;
    try {
      key = createPublicKey(publicKey);
    } catch {
      throw new MalformedRequestError(`requests[${index}]: publicKey is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new MalformedRequestError(`requests[${index}]: publicKey must be an EC P-256 key`);
    }
    return { identity, publicKey: key };
  });
}

export function parseAnswer(body: string): IssuanceAnswer {
  const parsed = JSON.parse(body) as Partial<IssuanceAnswer>;
  if (!Array.isArray(parsed.certificates) || !Array.isArray(parsed.refused)) throw new Error('the issuer answered something else than certificates');
  return { certificates: parsed.certificates, refused: parsed.refused };
}
