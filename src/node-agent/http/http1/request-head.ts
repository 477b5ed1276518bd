/**
 * A strict HTTP/1.1 request-head parser (RFC 9112 §3, §5, §6). It works on a complete head
 * (the caller finds the empty line) and rejects, with 400, every input that proxies and servers
 * could read differently: see `fields.ts` for the header rules.
 */
import type { HttpRequestInfo } from '../../runtime/types.js';
import { TARGET, TOKEN } from './chars.js';
import { type HeaderFields, listTokens, parseFields, parseFraming } from './fields.js';
import { HeadError } from './head-error.js';

export interface RequestHead extends HttpRequestInfo {
  readonly method: string;
  /** The request-target as received (origin-form, absolute-form or `*`). */
  readonly target: string;
  readonly path: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minorVersion: 0 | 1;
  readonly fields: HeaderFields;
  /** -1 when absent. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The client wants the connection kept open after this exchange. */
  readonly keepAlive: boolean;
  /** The request asks for a protocol switch (`Connection: upgrade` with an `Upgrade` field). */
  readonly upgrade: boolean;
  /** Lowercase names the Connection field lists (hop-by-hop by declaration). */
  readonly connectionTokens: readonly string[];
}

const CRLF = '\r\n';

/** `buffer[0, headLength)` is a complete head ending with CRLF CRLF. */
export function parseRequestHead(buffer: Buffer, headLength: number): RequestHead {
  const text = buffer.toString('latin1', 0, headLength - 2);
  const lineEnd = text.indexOf(CRLF);
  let pos = 0;
  while (pos < lineEnd && TOKEN[text.charCodeAt(pos)] === 1) pos++;
  if (pos === 0 || text.charCodeAt(pos) !== 0x20) throw new HeadError(400, 'malformed request line');
  const method = text.slice(0, pos);
  const targetStart = ++pos;
  while (pos < lineEnd && TARGET[text.charCodeAt(pos)] === 1) pos++;
  if (pos === targetStart || text.charCodeAt(pos) !== 0x20) throw new HeadError(400, 'malformed request target');
  const target = text.slice(targetStart, pos);
  const version = text.slice(pos + 1, lineEnd);
  let minorVersion: 0 | 1;
  if (version === 'HTTP/1.1') minorVersion = 1;
  else if (version === 'HTTP/1.0') minorVersion = 0;
  else throw new HeadError(400, 'unsupported HTTP version');
  if (method === 'CONNECT') throw new HeadError(400, 'CONNECT is not supported');

  const fields = parseFields(text, lineEnd + 2, text.length, 400);
  const framing = parseFraming(fields, 400);
  if (framing.chunked && minorVersion === 0) throw new HeadError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  let hosts = 0;
  for (const name of fields.lowerNames) if (name === 'host') hosts++;
  if (hosts > 1 || (hosts === 0 && minorVersion === 1)) throw new HeadError(400, 'an HTTP/1.1 request needs exactly one Host');

  const connectionTokens = listTokens(fields, 'connection');
  const keepAlive = minorVersion === 1 ? !connectionTokens.includes('close') : connectionTokens.includes('keep-alive');
  const upgrade = connectionTokens.includes('upgrade') && fields.lowerNames.includes('upgrade');
  return new ParsedRequestHead(method, target, pathOf(target), minorVersion, fields, framing.contentLength,
    framing.chunked, keepAlive, upgrade, connectionTokens);
}

/** The path of a request target, without the query: `/a?b` → `/a`, `http://h/a?b` → `/a`. */
export function pathOf(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f) {
    const scheme = target.indexOf('://');
    if (scheme === -1) return target;
    const slash = target.indexOf('/', scheme + 3);
    if (slash === -1) return '/';
    start = slash;
  }
  const query = target.indexOf('?', start);
  return query === -1 ? (start === 0 ? target : target.slice(start)) : target.slice(start, query);
}

class ParsedRequestHead implements RequestHead {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly path: string,
    readonly minorVersion: 0 | 1,
    readonly fields: HeaderFields,
    readonly contentLength: number,
    readonly chunked: boolean,
    readonly keepAlive: boolean,
    readonly upgrade: boolean,
    readonly connectionTokens: readonly string[],
  ) {}

  header(name: string): string | undefined {
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
