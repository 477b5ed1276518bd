/**
 * A strict HTTP/1.1 request-head parser (RFC 9112 §3, §5, §6). It works on a complete head
 * (the caller finds the empty line) and rejects, with 400, every input that proxies and servers
 * could read differently: see `fields.ts` for the header rules.
 */
import type { HttpRequestInfo } from '../../runtime/types.js';
import { type PathPolicy, normalizeTarget } from '../request-target.js';
import { TARGET, TOKEN } from './chars.js';
import { connectionOptions, isHopByHop } from './connection-options.js';
import { type HeaderFields, parseFields, parseFraming } from './fields.js';
import { HeadError } from './head-error.js';
import { isWebSocketUpgrade } from './upgrade.js';
import { queryOf } from '../../runtime/rule-actions.js';

export interface RequestHead extends HttpRequestInfo {
  readonly method: string;
  /** The normalised request-target sent to the endpoint (origin-form or `*`; see request-target.ts). */
  readonly target: string;
  /** The normalised path: what is authorized, routed and reported. */
  readonly path: string;
  /** An absolute-form target's authority: it replaces Host (RFC 9112 §3.2.2); null otherwise. */
  readonly authority: string | null;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minorVersion: 0 | 1;
  readonly fields: HeaderFields;
  /** -1 when absent. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The client wants the connection kept open after this exchange. */
  readonly keepAlive: boolean;
  /** A WebSocket upgrade (the only one forwarded; see upgrade.ts). */
  readonly upgrade: boolean;
  /** Lowercase names the Connection field lists (hop-by-hop by declaration). */
  readonly connectionTokens: readonly string[];
}

const CRLF = '\r\n';

/** `buffer[0, headLength)` is a complete head ending with CRLF CRLF. */
export function parseRequestHead(buffer: Buffer, headLength: number, paths: PathPolicy): RequestHead {
  const text = buffer.toString('latin1', 0, headLength - 2);
  const lineEnd = text.indexOf(CRLF);
  let pos = 0;
  while (pos < lineEnd && TOKEN[text.charCodeAt(pos)] === 1) pos++;
  if (pos === 0 || text.charCodeAt(pos) !== 0x20) throw new HeadError(400, 'malformed request line');
  const method = text.slice(0, pos);
  const targetStart = ++pos;
  while (pos < lineEnd && TARGET[text.charCodeAt(pos)] === 1) pos++;
  if (pos === targetStart || text.charCodeAt(pos) !== 0x20) throw new HeadError(400, 'malformed request target');
  const rawTarget = text.slice(targetStart, pos);
  const version = text.slice(pos + 1, lineEnd);
  let minorVersion: 0 | 1;
  if (version === 'HTTP/1.1') minorVersion = 1;
  else if (version === 'HTTP/1.0') minorVersion = 0;
  else throw new HeadError(400, 'unsupported HTTP version');
  if (method === 'CONNECT') throw new HeadError(400, 'CONNECT is not supported');
  const target = normalizeTarget(rawTarget, method, paths);

  const fields = parseFields(text, lineEnd + 2, text.length, 400);
  const framing = parseFraming(fields, 400);
  if (framing.chunked && minorVersion === 0) throw new HeadError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  let hosts = 0;
  for (const name of fields.lowerNames) if (name === 'host') hosts++;
  if (hosts > 1 || (hosts === 0 && minorVersion === 1)) throw new HeadError(400, 'an HTTP/1.1 request needs exactly one Host');

  const connectionTokens = connectionOptions(fields, 400);
  const keepAlive = minorVersion === 1 ? !connectionTokens.includes('close') : connectionTokens.includes('keep-alive');
  const hasBody = framing.chunked || framing.contentLength > 0;
  const upgrade = isWebSocketUpgrade({ method, minorVersion, fields, connectionOptions: connectionTokens, hasBody });
  return new ParsedRequestHead(method, target.target, target.path, target.authority, minorVersion, fields,
    framing.contentLength, framing.chunked, keepAlive, upgrade, connectionTokens);
}

class ParsedRequestHead implements RequestHead {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly path: string,
    readonly authority: string | null,
    readonly minorVersion: 0 | 1,
    readonly fields: HeaderFields,
    readonly contentLength: number,
    readonly chunked: boolean,
    readonly keepAlive: boolean,
    readonly upgrade: boolean,
    readonly connectionTokens: readonly string[],
  ) {}

  get query(): string {
    return queryOf(this.target);
  }

  /** What the endpoint will receive: hop-by-hop fields are not forwarded, so rules do not see them either. */
  header(name: string): string | undefined {
    if (this.authority !== null && name === 'host') return this.authority;
    if (isHopByHop(name, this.connectionTokens, this.upgrade)) return undefined;
    const lowerNames = this.fields.lowerNames;
    let result: string | undefined;
    for (let i = 0; i < lowerNames.length; i++) {
      if (lowerNames[i] !== name) continue;
      const value = this.fields.values[i] as string;
      result = result === undefined ? value : `${result}, ${value}`;
    }
    return result;
  }
}
