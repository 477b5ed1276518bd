/**
 * Finds the end of a message head (CRLF CRLF) in received bytes, for requests and responses
 * alike: a head over the size limit and a line feed without its carriage return are refused as
 * soon as they are seen, so a peer that sends either never leaves the other side waiting.
 */
import { HeadError } from './head-error.js';

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

export interface HeadRules {
  readonly what: 'request' | 'response';
  readonly maxBytes: number;
  readonly tooLarge: 431 | 502;
  readonly malformed: 400 | 502;
}

export const RESPONSE_HEAD_RULES: HeadRules = Object.freeze({ what: 'response', maxBytes: 64 * 1024, tooLarge: 502, malformed: 502 });

/** The rules for request heads of at most `maxBytes` (431 when larger, 400 when malformed). */
export function requestHeadRules(maxBytes: number): HeadRules {
  return Object.freeze({ what: 'request', maxBytes, tooLarge: 431, malformed: 400 });
}

/**
 * The length of the head at the start of `bytes` (through its CRLF CRLF), or -1 while more bytes
 * are needed; throws a HeadError for a head over `rules.maxBytes` or a bare LF.
 */
export function findHead(bytes: Buffer, rules: HeadRules): number {
  const end = bytes.indexOf(HEAD_END);
  if (end !== -1 && end + 4 <= rules.maxBytes) return end + 4;
  if (end !== -1 || bytes.length >= rules.maxBytes) throw new HeadError(rules.tooLarge, `${rules.what} head too large`);
  if (hasBareLineFeed(bytes)) throw new HeadError(rules.malformed, `line feed without carriage return in the ${rules.what} head`);
  return -1;
}

function hasBareLineFeed(bytes: Buffer): boolean {
  let index = bytes.indexOf(0x0a);
  while (index !== -1) {
    if (index === 0 || bytes[index - 1] !== 0x0d) return true;
    index = bytes.indexOf(0x0a, index + 1);
  }
  return false;
}
