/**
 * `plexus agent`: run the node agent. With --manifests it runs in local mode (file provider,
 * VIPs on loopback, DNS responder); without it, in Kubernetes mode (the kube provider).
 * SIGINT / SIGTERM stop it gracefully (listeners close, in-flight requests drain): exit 0.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runLocalAgent } from '../../run/local-agent.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../node-agent/agent.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../node-agent/http/limits.js';
import { parseDurationMs } from '../../routing/duration.js';
import { DEFAULT_ISSUER_PORT, DEFAULT_TUNNEL_PORT } from '../../secure/defaults.js';
import { ESCAPED_SLASH_ACTIONS, type EscapedSlashAction } from '../../node-agent/http/index.js';
import type { AgentOptions, AgentRunner } from '../../run/agent-options.js';
import type { SecureAgentOptions } from '../../secure/options.js';
import { CliError } from '../errors.js';
import { createLogger, LOG_LEVELS, logFormatOption, type LogFormat, type LogLevel } from '../logger.js';
import {
  certLifetimeOption, defaultNodeName, drainTimeoutOption, drainWindowOption, kubeconfigOption, manifestsOption, meshDomainOption, portOption, trustDomainOption, vipCidrOption,
} from '../options.js';
import { runUntilStopped } from '../stop-signal.js';

interface AgentArgs {
  readonly manifests: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly nodeName: string;
  readonly acl: boolean;
  readonly meshDomain: string;
  readonly listenAddress: string;
  readonly vipCidr: string;
  readonly dnsPort: number;
  readonly dnsAddress: string;
  readonly adminPort: number;
  readonly adminAddress: string | undefined;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly accessLog: boolean;
  readonly accessLogSampleRate: number;
  readonly tapTokenFile: string | undefined;
  readonly udpIdleTimeout: number;
  readonly pathEscapedSlashes: EscapedSlashAction;
  readonly mergeSlashes: boolean;
  readonly requestTimeout: number;
  readonly secure: boolean;
  readonly trustDomain: string;
  readonly tunnelPort: number;
  readonly issuerAddress: string | undefined;
  readonly issuerPort: number;
  readonly tunnelAddress: string | undefined;
  readonly caDir: string | undefined;
  readonly tunnelPeer: readonly string[];
  readonly permissive: boolean;
  readonly certLifetime: number | undefined;
  readonly drainWindow: number | undefined;
  readonly drainTimeout: number;
}

export const DEFAULT_DNS_PORT = 8053;
/** Long enough for an endpoint removal to reach kube-proxy on every node of an ordinary cluster. */
export const DEFAULT_KUBE_DRAIN_WINDOW_SECONDS = 5;
export const DEFAULT_ADMIN_PORT = 9901;

const TAP_TOKEN_FILE_OPTION = {
  type: 'string', normalize: true, defaultDescription: 'none',
  describe: 'File holding the mesh\'s tap token: every /tap caller must send it (without it, only loopback callers may tap)',
} as const;

function builder(yargs: Argv): Argv<AgentArgs> {
  return yargs
    .option('manifests', { ...manifestsOption, describe: `${manifestsOption.describe}: runs in local mode. Without it, the agent watches the Kubernetes API` })
    .option('kubeconfig', { ...kubeconfigOption, describe: 'Kubernetes mode: the kubeconfig file' })
    .option('namespace', { type: 'string', default: 'plexus', describe: 'Kubernetes mode: the mesh namespace (shadow Services, Lease, CA Secret)' })
    .option('node-name', {
      type: 'string',
      default: defaultNodeName(),
      defaultDescription: '$NODE_NAME, then the host name',
      describe: 'This node: the agent serves the pods of this node (Pods\' spec.nodeName; pods without one are on every node)',
    })
    .option('acl', { type: 'boolean', default: false, describe: 'Authorize with TrafficTargets: without a matching one, HTTP 403 and TCP connections closed' })
    .option('mesh-domain', meshDomainOption)
    .option('listen-address', { type: 'string', default: '0.0.0.0', describe: 'Kubernetes mode: where listeners bind' })
    .option('vip-cidr', vipCidrOption)
    .option('dns-port', portOption('dns-port', 'Local mode: DNS responder port, UDP and TCP (0 = off)', DEFAULT_DNS_PORT))
    .option('dns-address', { type: 'string', default: '127.0.0.1', describe: 'Local mode: DNS responder address' })
    .option('admin-port', portOption('admin-port', 'Admin server port: /metrics, /healthz, /readyz, /config, /tap (0 = any free port, logged when ready)', DEFAULT_ADMIN_PORT))
    .option('admin-address', { type: 'string', describe: 'Admin server address', defaultDescription: '127.0.0.1 in local mode, 0.0.0.0 in Kubernetes mode' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log level (logs go to stderr)' })
    .option('log-format', logFormatOption())
    .option('access-log', { type: 'boolean', default: false, describe: 'Log one line per request / connection' })
    .option('access-log-sample-rate', {
      type: 'number',
      default: 1,
      describe: 'Fraction of requests logged by --access-log (0-1)',
      coerce: (value: number) => {
        if (!(value >= 0 && value <= 1)) throw new Error(`--access-log-sample-rate: "${value}" is not between 0 and 1`);
        return value;
      },
    })
    .option('tap-token-file', TAP_TOKEN_FILE_OPTION)
    .option('request-timeout', {
      type: 'string',
      default: `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`,
      describe: 'Mesh-wide default timeout of HTTP Services without plexus.dev/timeout: how long an endpoint has, once the request was received, to send its response head (then 504); bodies, streams and WebSockets that began are not cut. Go duration; 0 = none',
      coerce: (value: string) => {
        const ms = parseDurationMs(String(value));
        if (ms === null) throw new Error(`--request-timeout: "${value}" is not a duration such as "15s", "500ms" or "1m30s" (0 = none)`);
        return ms;
      },
    })
    .option('udp-idle-timeout', {
      type: 'number',
      default: 60,
      describe: 'Seconds without a datagram after which a UDP flow is closed (and counted in metrics)',
      coerce: (value: number) => {
        if (!(value > 0)) throw new Error(`--udp-idle-timeout: "${value}" is not a positive number of seconds`);
        return value;
      },
    })
    .option('path-escaped-slashes', {
      choices: ESCAPED_SLASH_ACTIONS,
      default: 'reject' as EscapedSlashAction,
      describe: 'HTTP paths with %2F, %5C or a backslash: reject (400), keep (forwarded encoded; only for endpoints that never decode them), or unescape (to "/", then normalised)',
    })
    .option('merge-slashes', { type: 'boolean', default: true, describe: 'Merge repeated slashes in HTTP paths (/a//b → /a/b) before authorization, routing and forwarding; --no-merge-slashes keeps them' })
    .option('secure', { type: 'boolean', default: false, describe: 'Secure mode: per-ServiceAccount certificates, mTLS tunnel between agents, authorization on the destination node (docs/secure-mode.md)' })
    .option('trust-domain', trustDomainOption)
    .option('tunnel-port', portOption('tunnel-port', 'Secure mode: the port of the mTLS tunnel listener (0 = any free port, logged when ready)', DEFAULT_TUNNEL_PORT))
    .option('issuer-address', { type: 'string', describe: 'Secure mode, Kubernetes mode: the certificate issuer (host name or IP)', defaultDescription: 'plexus-issuer.<namespace>.svc' })
    .option('issuer-port', portOption('issuer-port', 'Secure mode, Kubernetes mode: the port of the certificate issuer', DEFAULT_ISSUER_PORT))
    .option('tunnel-address', { type: 'string', describe: 'Secure mode: where the tunnel listener binds', defaultDescription: '127.0.0.1 in local mode, --listen-address in Kubernetes mode' })
    .option('ca-dir', { type: 'string', normalize: true, describe: 'Secure mode, local mode: the CA folder made by plexus ca init' })
    .option('tunnel-peer', {
      type: 'string', array: true, default: [] as string[],
      describe: 'Secure mode, local mode: NODE=HOST:PORT, the tunnel listener of another node\'s agent (repeat per node)',
    })
    .option('cert-lifetime', { ...certLifetimeOption, default: undefined, describe: `Secure mode, local mode: ${certLifetimeOption.describe.replace('Secure mode: ', '')} (in Kubernetes mode the issuer's --cert-lifetime decides)`, defaultDescription: String(certLifetimeOption.default) })
    .option('permissive', { type: 'boolean', default: false, describe: 'Secure mode: let plaintext callers into the tunnel port, without an identity (migration only)' })
    .option('drain-window', { ...drainWindowOption, default: undefined, defaultDescription: `${DEFAULT_KUBE_DRAIN_WINDOW_SECONDS} in Kubernetes mode, 0 in local mode` })
    .option('drain-timeout', drainTimeoutOption(DEFAULT_DRAIN_TIMEOUT_MS / 1000))
    .example('$0 agent --manifests examples/shop --dns-port 8053', 'Local mode on the example shop')
    .example('$0 agent --node-name node-b --vip-cidr 127.78.0.0/16 --dns-port 8054 --admin-port 9902 --manifests dir/', 'A second agent on the same machine') as unknown as Argv<AgentArgs>;
}

function toOptions(args: ArgumentsCamelCase<AgentArgs>): AgentOptions {
  const local = args.manifests !== undefined;
  return {
    manifests: args.manifests ?? null,
    kubeconfig: args.kubeconfig ?? null,
    namespace: args.namespace,
    nodeName: args.nodeName,
    acl: args.acl,
    meshDomain: args.meshDomain,
    listenAddress: args.listenAddress,
    vipCidr: args.vipCidr,
    dnsAddress: args.dnsAddress,
    dnsPort: args.dnsPort,
    adminPort: args.adminPort,
    adminAddress: args.adminAddress ?? (local ? '127.0.0.1' : '0.0.0.0'),
    accessLog: { enabled: args.accessLog, sampleRate: args.accessLogSampleRate },
    tapTokenFile: args.tapTokenFile ?? null,
    udpIdleTimeoutMs: args.udpIdleTimeout * 1000,
    drain: { windowMs: (args.drainWindow ?? (local ? 0 : DEFAULT_KUBE_DRAIN_WINDOW_SECONDS)) * 1000, timeoutMs: args.drainTimeout * 1000 },
    paths: { escapedSlashes: args.pathEscapedSlashes, mergeSlashes: args.mergeSlashes },
    requestTimeoutMs: args.requestTimeout,
    secure: secureOptions(args, local),
    logger: createLogger(args.logLevel, args.logFormat),
  };
}

function secureOptions(args: ArgumentsCamelCase<AgentArgs>, local: boolean): SecureAgentOptions | null {
  if (!args.secure) return null;
  if (local && args.caDir === undefined) throw new CliError('--secure in local mode needs --ca-dir DIR (create it with: plexus ca init --dir DIR)');
  if (!local && (args.caDir !== undefined || args.tunnelPeer.length > 0 || args.certLifetime !== undefined)) {
    throw new CliError('--ca-dir, --tunnel-peer and --cert-lifetime are for local mode: in Kubernetes mode the CA is the Secret made by plexus prepare, the issuer (plexus issuer) sets the certificates\' lifetime, and peers are the agent pods');
  }
  const peers = new Map<string, { host: string; port: number }>();
  for (const entry of args.tunnelPeer) {
    const match = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)=(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[5]);
    if (match === null || !(port >= 1 && port <= 65535)) {
      throw new CliError(`--tunnel-peer: "${entry}" is not NODE=HOST:PORT`);
    }
    peers.set(match[1]!, { host: match[3] ?? match[4]!, port });
  }
  return {
    trustDomain: args.trustDomain,
    tunnelPort: args.tunnelPort,
    issuer: { host: args.issuerAddress ?? `plexus-issuer.${args.namespace}.svc`, port: args.issuerPort },
    tunnelAddress: args.tunnelAddress ?? (local ? '127.0.0.1' : args.listenAddress),
    caDir: args.caDir ?? null,
    peers,
    permissive: args.permissive,
    certLifetimeMs: (args.certLifetime ?? certLifetimeOption.default) * 1000,
  };
}

/** Loaded only in Kubernetes mode: local mode never loads the Kubernetes client. */
async function kubernetesRunner(): Promise<AgentRunner> {
  const { runKubernetesAgent } = await import('../../run/kube-agent.js');
  return runKubernetesAgent;
}

async function handler(args: ArgumentsCamelCase<AgentArgs>): Promise<void> {
  const options = toOptions(args);
  const run: AgentRunner = options.manifests !== null ? runLocalAgent : await kubernetesRunner();
  await runUntilStopped('agent', options.logger, (signal) => run(options, signal));
}

export const agentCommand: CommandModule<object, AgentArgs> = {
  command: 'agent',
  describe: 'Run the node agent (local mode with --manifests, else Kubernetes mode)',
  builder,
  handler,
};
