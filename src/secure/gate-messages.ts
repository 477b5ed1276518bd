/**
 * The message reading of the destination's HTTP gate (http-gate.ts), on the data plane's HTTP/1.1
 * parsers: the request head the pod gets, where a request body ends, and the response heads
 * before a response body.
 */
import { type BodyScanner, ChunkedScanner, LengthScanner } from '../node-agent/http/http1/body-scanner.js';
import { RESPONSE_HEAD_RULES, findHead } from '../node-agent/http/http1/head-bytes.js';
import { HeadError } from '../node-agent/http/http1/head-error.js';
import type { RequestHead } from '../node-agent/http/http1/request-head.js';
import { type ResponseHead, parseResponseHead } from '../node-agent/http/http1/response-head.js';
import { checkSwitchingProtocols } from '../node-agent/http/http1/upgrade.js';

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The head the pod gets for `head`, received as `bytes[0, headLength)`: null when it is the same
 * (normalising changed nothing, the usual case), else the request line with the normalised target
 * and, for an absolute-form target, its authority as Host.
 */
export function podRequestHead(head: RequestHead, bytes: Buffer, headLength: number): Buffer | null {
  const line = `${head.method} ${head.target} HTTP/1.${head.minorVersion}`;
  const lineEnd = bytes.indexOf(CRLF);
  if (head.authority === null && bytes.toString('latin1', 0, lineEnd) === line) return null;
  let fields: string;
  if (head.authority === null) fields = bytes.toString('latin1', lineEnd + 2, headLength - 2);
  else {
    const { names, lowerNames, values } = head.fields;
    fields = `Host: ${head.authority}\r\n`;
    for (let i = 0; i < names.length; i++) if (lowerNames[i] !== 'host') fields += `${names[i]}: ${values[i]}\r\n`;
  }
  return Buffer.from(`${line}\r\n${fields}\r\n`, 'latin1');
}

/** Where the body of `head` ends; null when it has none. */
export function requestBodyScanner(head: RequestHead, maxTrailerBytes: number): BodyScanner | null {
  if (head.chunked) return new ChunkedScanner(maxTrailerBytes);
  return head.contentLength > 0 ? new LengthScanner(head.contentLength) : null;
}

export type ResponseStart =
  /** More bytes are needed; `bytes[0, passed)` are complete interim (1xx) heads. */
  | { readonly kind: 'more'; readonly passed: number }
  /** The final head; its body starts at `bodyStart`. */
  | { readonly kind: 'final'; readonly head: ResponseHead; readonly bodyStart: number }
  /** A WebSocket upgrade was accepted (101): bytes from `bodyStart` on are the tunnel's. */
  | { readonly kind: 'switched'; readonly bodyStart: number };

/** Reads the response heads at the start of `bytes`, 1xx interim ones passing; throws a HeadError (502) for a bad one. */
export function readResponseStart(bytes: Buffer, request: RequestHead): ResponseStart {
  let start = 0;
  for (;;) {
    const rest = start === 0 ? bytes : bytes.subarray(start);
    const headLength = findHead(rest, RESPONSE_HEAD_RULES);
    if (headLength === -1) return { kind: 'more', passed: start };
    const head = parseResponseHead(rest, headLength);
    start += headLength;
    if (head.status === 101) {
      if (!request.upgrade) throw new HeadError(502, '101 Switching Protocols for a request that asked for no upgrade');
      checkSwitchingProtocols(head.fields);
      return { kind: 'switched', bodyStart: start };
    }
    if (head.status >= 200) return { kind: 'final', head, bodyStart: start };
  }
}
