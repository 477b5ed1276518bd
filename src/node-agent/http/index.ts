/** The HTTP side of the node agent's data plane: handlers for accepted HTTP and h2c sockets. */
export type { ConnectionHandler, HttpProxyContext } from './context.js';
export { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';
export { DEFAULT_PATH_POLICY, ESCAPED_SLASH_ACTIONS, type EscapedSlashAction, type PathPolicy } from './request-target.js';
export { UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';
export { MirrorSender } from './mirror/mirror-sender.js';
export { createHttp1Handler } from './http1-handler.js';
export { createH2cHandler } from './h2c-handler.js';
