/**
 * Which protocol upgrades pass (RFC 9110 §7.8). Only WebSocket does (RFC 6455: an HTTP/1.1 GET
 * without a body and with `Upgrade: websocket`): once an endpoint answers `101` the connection is
 * an opaque tunnel, so anything else would carry requests nobody authorized. An `h2c` upgrade is
 * declined the way RFC 9110 lets a server decline one: the request is served as plain HTTP/1.1
 * and its upgrade fields are not forwarded (clients fall back; RFC 9113 §3.1 deprecates it). Any
 * other upgrade is refused with 400. HTTP/1.0 upgrade requests are served as plain requests, as
 * RFC 9110 requires.
 */
import { type HeaderFields, listTokens } from './fields.js';
import { HeadError } from './head-error.js';

export interface UpgradeRequest {
  readonly method: string;
  readonly minorVersion: 0 | 1;
  readonly fields: HeaderFields;
  readonly connectionOptions: readonly string[];
  readonly hasBody: boolean;
}

/** True when the request is a WebSocket upgrade to forward; false when it is a plain request. */
export function isWebSocketUpgrade(request: UpgradeRequest): boolean {
  if (request.minorVersion === 0 || !request.connectionOptions.includes('upgrade')) return false;
  const protocols = listTokens(request.fields, 'upgrade');
  if (protocols.length === 0 || (protocols.length === 1 && protocols[0] === 'h2c')) return false;
  if (protocols.length !== 1 || protocols[0] !== 'websocket') {
    throw new HeadError(400, `upgrade to "${protocols.join(', ')}" is not supported (only websocket)`);
  }
  if (request.method !== 'GET') throw new HeadError(400, `a WebSocket upgrade must be a GET, not ${request.method}`);
  if (request.hasBody) throw new HeadError(400, 'a WebSocket upgrade request with a body');
  return true;
}

/** A `101` answer must switch to the protocol asked for. */
export function checkSwitchingProtocols(fields: HeaderFields): void {
  const protocols = listTokens(fields, 'upgrade');
  if (protocols.length !== 1 || protocols[0] !== 'websocket') {
    throw new HeadError(502, `101 Switching Protocols to "${protocols.join(', ')}" for a WebSocket request`);
  }
}
