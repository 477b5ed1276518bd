/**
 * A strict parser for the response heads endpoints send (RFC 9112 §4, §6.3). An endpoint that
 * sends something ambiguous gets its response replaced by a 502, never passed on.
 */
import { connectionOptions } from './connection-options.js';
import { type HeaderFields, parseFields, parseFraming } from './fields.js';
import { HeadError } from './head-error.js';

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  readonly minorVersion: 0 | 1;
  readonly fields: HeaderFields;
  readonly contentLength: number;
  readonly chunked: boolean;
  /** The endpoint lets the connection be reused after this response. */
  readonly keepAlive: boolean;
  readonly connectionTokens: readonly string[];
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** `buffer[0, headLength)` is a complete head ending with CRLF CRLF. */
export function parseResponseHead(buffer: Buffer, headLength: number): ResponseHead {
  const text = buffer.toString('latin1', 0, headLength - 2);
  const lineEnd = text.indexOf('\r\n');
  const statusLine = STATUS_LINE.exec(text.slice(0, lineEnd));
  if (statusLine === null) throw new HeadError(502, 'malformed status line from the endpoint');
  const minorVersion = statusLine[1] === '1' ? 1 : 0;
  const fields = parseFields(text, lineEnd + 2, text.length, 502);
  const framing = parseFraming(fields, 502);
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is faulty.
  if (framing.chunked && minorVersion === 0) throw new HeadError(502, 'Transfer-Encoding in an HTTP/1.0 response from the endpoint');
  const connectionTokens = connectionOptions(fields, 502);
  const keepAlive = minorVersion === 1 ? !connectionTokens.includes('close') : connectionTokens.includes('keep-alive');
  return {
    status: Number(statusLine[2]),
    reason: statusLine[3] ?? '',
    minorVersion,
    fields,
    contentLength: framing.contentLength,
    chunked: framing.chunked,
    keepAlive,
    connectionTokens,
  };
}
