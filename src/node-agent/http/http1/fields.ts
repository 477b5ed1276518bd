/**
 * Strict parsing of the header-field lines of an HTTP/1.1 head (RFC 9112 §5): no whitespace
 * between name and colon, no obs-fold, no control characters (a bare CR or LF included).
 */
import { FIELD_VALUE, TOKEN } from './chars.js';
import { HeadError } from './head-error.js';

/** Header fields in arrival order: original names, lowercase names and trimmed values. */
export interface HeaderFields {
  readonly names: string[];
  readonly lowerNames: string[];
  readonly values: string[];
}

export const MAX_HEADER_FIELDS = 128;

/**
 * Parses the field lines of `text` from `start` to `end` (`end` is just after the CRLF of the
 * last field line, i.e. the empty line's position). `errorStatus` is 400 for requests and 502
 * for responses from an endpoint.
 */
export function parseFields(text: string, start: number, end: number, errorStatus: 400 | 502): HeaderFields {
  const names: string[] = [];
  const lowerNames: string[] = [];
  const values: string[] = [];
  let pos = start;
  while (pos < end) {
    const first = text.charCodeAt(pos);
    if (first === 0x20 || first === 0x09) throw new HeadError(errorStatus, 'obsolete line folding in a header field');
    let colon = pos;
    while (colon < end && TOKEN[text.charCodeAt(colon)] === 1) colon++;
    if (colon === pos || text.charCodeAt(colon) !== 0x3a) {
      throw new HeadError(errorStatus, colon === pos ? 'invalid header field name' : 'invalid character in a header field name');
    }
    let valueStart = colon + 1;
    let lineEnd = valueStart;
    while (FIELD_VALUE[text.charCodeAt(lineEnd)] === 1) lineEnd++;
    if (text.charCodeAt(lineEnd) !== 0x0d || text.charCodeAt(lineEnd + 1) !== 0x0a) {
      throw new HeadError(errorStatus, 'invalid character in a header field value');
    }
    while (valueStart < lineEnd && isWhitespace(text.charCodeAt(valueStart))) valueStart++;
    let valueEnd = lineEnd;
    while (valueEnd > valueStart && isWhitespace(text.charCodeAt(valueEnd - 1))) valueEnd--;
    if (names.length === MAX_HEADER_FIELDS) throw new HeadError(errorStatus === 400 ? 431 : 502, 'too many header fields');
    const name = text.slice(pos, colon);
    names.push(name);
    lowerNames.push(name.toLowerCase());
    values.push(text.slice(valueStart, valueEnd));
    pos = lineEnd + 2;
  }
  return { names, lowerNames, values };
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The comma-separated list elements of every field named `lowerName`, lowercased and trimmed. */
export function listTokens(fields: HeaderFields, lowerName: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < fields.lowerNames.length; i++) {
    if (fields.lowerNames[i] !== lowerName) continue;
    for (const part of (fields.values[i] as string).split(',')) {
      const token = part.trim().toLowerCase();
      if (token !== '') tokens.push(token);
    }
  }
  return tokens;
}

/**
 * Message framing shared by requests and responses: the Content-Length (-1 when absent) and
 * whether the body is chunked. Rejects every ambiguity a smuggling attack could use: both
 * headers, repeated or malformed Content-Length, a Transfer-Encoding other than `chunked`.
 */
export interface Framing {
  readonly contentLength: number;
  readonly chunked: boolean;
}

export function parseFraming(fields: HeaderFields, errorStatus: 400 | 502): Framing {
  let contentLength = -1;
  let transferEncoding: string | null = null;
  for (let i = 0; i < fields.lowerNames.length; i++) {
    const name = fields.lowerNames[i];
    if (name === 'content-length') {
      if (contentLength !== -1) throw new HeadError(errorStatus, 'more than one Content-Length');
      contentLength = parseContentLength(fields.values[i] as string, errorStatus);
    } else if (name === 'transfer-encoding') {
      if (transferEncoding !== null) throw new HeadError(errorStatus, 'more than one Transfer-Encoding');
      transferEncoding = (fields.values[i] as string).toLowerCase();
    }
  }
  if (transferEncoding === null) return { contentLength, chunked: false };
  if (contentLength !== -1) throw new HeadError(errorStatus, 'both Content-Length and Transfer-Encoding');
  if (transferEncoding !== 'chunked') throw new HeadError(errorStatus, `unsupported Transfer-Encoding "${transferEncoding}"`);
  return { contentLength: -1, chunked: true };
}

function parseContentLength(value: string, errorStatus: 400 | 502): number {
  if (value.length === 0 || value.length > 15) throw new HeadError(errorStatus, 'invalid Content-Length');
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) throw new HeadError(errorStatus, 'invalid Content-Length');
    length = length * 10 + digit;
  }
  return length;
}
