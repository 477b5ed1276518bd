/**
 * The Connection field's options (RFC 9110 §7.6.1): each names a field that is hop-by-hop and
 * is removed before the message is forwarded. An option naming a field that frames the message
 * (Content-Length, Transfer-Encoding), routes it (Host) or carries meaning for every recipient is
 * refused (400 for a request, 502 for a response): removing it would let the next hop read a
 * different message than the one the proxy checked (request smuggling through `Connection`).
 */
import { isToken } from './chars.js';
import type { HeaderFields } from './fields.js';
import { HeadError } from './head-error.js';

/** Fields that are never hop-by-hop, whatever a Connection field says. */
const END_TO_END = new Set([
  'content-length', 'transfer-encoding', 'host',
  'authorization', 'cookie', 'set-cookie', 'cache-control', 'content-type', 'content-encoding', 'content-range',
  'location', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-real-ip',
]);

/** Hop-by-hop fields (RFC 9110 §7.6.1, RFC 9113 §3.2.1), besides those a Connection field names. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization', 'http2-settings',
]);

/** The field is not forwarded: hop-by-hop or named by `connectionOptions` (`Upgrade` stays on a WebSocket upgrade). */
export function isHopByHop(lowerName: string, connectionOptions: readonly string[], upgrade: boolean): boolean {
  if (upgrade && lowerName === 'upgrade') return false;
  return HOP_BY_HOP.has(lowerName) || (connectionOptions.length > 0 && connectionOptions.includes(lowerName));
}

/**
 * The lowercase options of every Connection field; throws a HeadError with `errorStatus` for a
 * list element that is not a token or that names an end-to-end field.
 */
export function connectionOptions(fields: HeaderFields, errorStatus: 400 | 502): string[] {
  const options: string[] = [];
  for (let i = 0; i < fields.lowerNames.length; i++) {
    if (fields.lowerNames[i] !== 'connection') continue;
    for (const part of (fields.values[i] as string).split(',')) {
      const option = part.trim().toLowerCase();
      if (option === '') continue;
      if (!isToken(option)) throw new HeadError(errorStatus, `invalid Connection option "${option}"`);
      if (END_TO_END.has(option)) throw new HeadError(errorStatus, `Connection names the end-to-end field "${option}"`);
      options.push(option);
    }
  }
  return options;
}
