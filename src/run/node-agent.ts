/** The NodeAgent of a mode runner, built from the agent's options, dialling through secure mode once it runs. */
import type { AgentOptions } from './agent-options.js';
import { NodeAgent } from '../node-agent/agent.js';
import type { Dialer } from '../node-agent/runtime/dialer.js';

/** What the agent needs of secure mode (local or Kubernetes): its dialer and what `/config` shows of it. */
export interface SecureSide {
  readonly dialer: Dialer;
  view(): object;
}

/**
 * `secure()` is read at each dial: null while secure mode starts (calls are refused meanwhile),
 * and never consulted without `--secure`.
 */
export function createNodeAgent(options: AgentOptions, mode: 'local' | 'kubernetes', secure: () => SecureSide | null): NodeAgent {
  return new NodeAgent({
    mode,
    listenAddress: options.listenAddress,
    acl: options.acl,
    adminAddress: options.adminAddress,
    adminPort: options.adminPort,
    logger: options.logger,
    accessLog: options.accessLog,
    tapTokenFile: options.tapTokenFile,
    httpPaths: options.paths,
    udpIdleTimeoutMs: options.udpIdleTimeoutMs,
    httpLimits: { requestTimeoutMs: options.requestTimeoutMs },
    ...(options.secure === null ? {} : {
      dialer: (endpoint, source, port) => {
        const running = secure();
        return running === null ? { kind: 'refused', reason: 'secure mode is starting' } : running.dialer(endpoint, source, port);
      },
      secureView: () => secure()?.view() ?? { starting: true },
    }),
  });
}
