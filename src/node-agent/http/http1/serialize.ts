/**
 * The heads the proxy writes: the request head for the endpoint (normalised target, hop-by-hop
 * fields stripped, X-Forwarded-* set, Host kept, or replaced by an absolute-form target's
 * authority) and the response head for the client. Framing fields (Content-Length,
 * Transfer-Encoding) always stay, because body bytes pass through unchanged; connection-options.ts
 * refuses a Connection field that names them.
 */
import type { HeaderEdits } from '../../../routing/mesh-config.js';
import { editFields, type Field } from '../../runtime/rule-actions.js';
import { isHopByHop } from './connection-options.js';
import type { HeaderFields } from './fields.js';
import type { RequestHead } from './request-head.js';
import type { ResponseHead } from './response-head.js';

const NO_OPTIONS: readonly string[] = [];

function isForwardedField(lowerName: string): boolean {
  return lowerName === 'x-forwarded-for' || lowerName === 'x-forwarded-proto';
}

/** Gateway API rule changes to a request head: header edits, and the target and Host after a rewrite. */
export interface HeadEdits {
  readonly headers: readonly HeaderEdits[];
  /** Replaces the request target; null keeps it. */
  readonly target: string | null;
  /** Replaces the Host field; null keeps it. */
  readonly host: string | null;
}

/** `request`: skip X-Forwarded-* (set by the proxy) and, when `authority` is given, Host (replaced). */
function copyEndToEnd(
  fields: HeaderFields, connectionTokens: readonly string[], keepUpgrade: boolean, request: boolean, authority: string | null,
  edits: readonly HeaderEdits[] = [],
): string {
  if (edits.length > 0) return copyEdited(fields, connectionTokens, keepUpgrade, request, authority, edits);
  let out = '';
  const { names, lowerNames, values } = fields;
  for (let i = 0; i < names.length; i++) {
    const lowerName = lowerNames[i] as string;
    if (request && isForwardedField(lowerName)) continue;
    if (authority !== null && lowerName === 'host') {
      out += `Host: ${authority}\r\n`;
      continue;
    }
    if (isHopByHop(lowerName, connectionTokens, keepUpgrade)) continue;
    out += `${names[i]}: ${values[i]}\r\n`;
  }
  return out;
}

/** The slow path of copyEndToEnd, for heads a Gateway API filter edits. */
function copyEdited(
  fields: HeaderFields, connectionTokens: readonly string[], keepUpgrade: boolean, request: boolean, authority: string | null,
  edits: readonly HeaderEdits[],
): string {
  const kept: Field[] = [];
  const { names, lowerNames, values } = fields;
  for (let i = 0; i < names.length; i++) {
    const lowerName = lowerNames[i] as string;
    if (request && isForwardedField(lowerName)) continue;
    if (authority !== null && lowerName === 'host') kept.push({ name: 'Host', value: authority });
    else if (!isHopByHop(lowerName, connectionTokens, keepUpgrade)) kept.push({ name: names[i] as string, value: values[i] as string });
  }
  let out = '';
  for (const field of editFields(kept, edits)) {
    const lower = field.name.toLowerCase();
    // The compiler refuses filters on framing and hop-by-hop fields; this keeps it so.
    if (isHopByHop(lower, NO_OPTIONS, keepUpgrade)) continue;
    out += `${field.name}: ${field.value}\r\n`;
  }
  return out;
}

/**
 * The head sent to the endpoint. HTTP/1.0 requests stay HTTP/1.0 (so the endpoint never
 * answers with chunked coding the client cannot read) and their upstream connection closes.
 * `edits` are a Gateway API rule's filters; `addRequestId` is the `X-Request-Id` to add (null
 * when the request carries one).
 */
export function serializeRequestHead(head: RequestHead, clientIp: string, edits: HeadEdits | null = null, addRequestId: string | null = null): string {
  const forwardedFor = head.header('x-forwarded-for');
  let out = `${head.method} ${edits?.target ?? head.target} HTTP/1.${head.minorVersion}\r\n`;
  const headerEdits: HeaderEdits[] = [];
  if (edits?.host != null) headerEdits.push({ set: [{ name: 'Host', value: edits.host }], add: [], remove: [] });
  for (const edit of edits?.headers ?? []) headerEdits.push(edit);
  out += copyEndToEnd(head.fields, head.connectionTokens, head.upgrade, true, head.authority, headerEdits);
  if (head.authority !== null && head.minorVersion === 0 && !head.fields.lowerNames.includes('host')) out += `Host: ${head.authority}\r\n`;
  if (head.upgrade) out += 'Connection: upgrade\r\n';
  // The client's own X-Forwarded-For is passed on (appended to) but never trusted.
  out += `X-Forwarded-For: ${forwardedFor === undefined ? clientIp : `${forwardedFor}, ${clientIp}`}\r\n`;
  if (addRequestId !== null) out += `X-Request-Id: ${addRequestId}\r\n`;
  return out + 'X-Forwarded-Proto: http\r\n\r\n';
}

/** The head sent to the client; `close` adds `Connection: close` (the client connection ends after it). */
export function serializeResponseHead(head: ResponseHead, close: boolean, upgrade: boolean, edits: readonly HeaderEdits[] = []): string {
  let out = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  out += copyEndToEnd(head.fields, head.connectionTokens, upgrade, false, null, edits);
  if (upgrade) out += 'Connection: upgrade\r\n';
  else if (close) out += 'Connection: close\r\n';
  return out + '\r\n';
}
