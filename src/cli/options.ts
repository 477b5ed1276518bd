/** Option definitions shared by several commands, so names, defaults and help stay identical. */
import { hostname } from 'node:os';
import type { Options } from 'yargs';
import { envVariableName } from './env-args.js';
import { DEFAULT_MESH_DOMAIN, DEFAULT_VIP_CIDR } from '../routing/compile-options.js';
import { DEFAULT_CERT_LIFETIME_MS, DEFAULT_TRUST_DOMAIN } from '../secure/defaults.js';

export const meshDomainOption = {
  type: 'string',
  default: DEFAULT_MESH_DOMAIN,
  describe: 'The mesh DNS domain: Services are called <service>.<namespace>.<domain>',
  coerce: (value: string) => value.toLowerCase().replace(/^\.+|\.+$/g, ''),
} as const satisfies Options;

export const vipCidrOption = {
  type: 'string',
  default: DEFAULT_VIP_CIDR,
  describe: 'Local mode: the loopback block virtual IPs of Services are allocated from',
  coerce: (value: string) => {
    if (!isIpv4Cidr(value)) throw new Error(`--vip-cidr: "${value}" is not an IPv4 CIDR block such as 127.77.0.0/16`);
    return value;
  },
} as const satisfies Options;

/** Where commands that talk to the API server find it (src/kube/kubeconfig.ts). */
export const kubeconfigOption = {
  type: 'string',
  normalize: true,
  describe: 'The kubeconfig file',
  defaultDescription: 'in-cluster, then $KUBECONFIG, then ~/.kube/config',
} as const satisfies Options;

export const manifestsOption = {
  type: 'string',
  normalize: true,
  describe: 'A folder of Kubernetes YAML (Services, EndpointSlices, Pods, SMI objects; nested folders)',
} as const satisfies Options;

/** `$NODE_NAME` (what a DaemonSet sets from the downward API), then the host name. */
export function defaultNodeName(): string {
  return process.env.NODE_NAME || hostname();
}

export function isIpv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) && Number(match[5]) <= 32;
}

/**
 * A TCP/UDP port option `--name`: an integer 0-65535. The error names the option and its
 * variable: a value can come from the environment (PLEXUS_<NAME>), where Kubernetes' service
 * links put `tcp://…` strings under names of the same shape.
 */
export function portOption(name: string, describe: string, defaultValue: number) {
  return {
    type: 'number' as const,
    default: defaultValue,
    describe,
    coerce: (value: number) => {
      if (!Number.isInteger(value) || value < 0 || value > 65535) {
        const given = Number.isNaN(value) ? 'a value that is not a number' : String(value);
        throw new Error(`--${name} (or ${envVariableName(name)}) needs a port number 0-65535, got ${given}`);
      }
      return value;
    },
  };
}

/** A number of seconds, at least `min`. */
function secondsOption(name: string, describe: string, defaultValue: number, min: number) {
  return {
    type: 'number' as const,
    default: defaultValue,
    describe,
    // Also called without a value where a command defaults the option itself (agent --drain-window).
    coerce: (value: number | undefined) => {
      if (value !== undefined && !(value >= min)) throw new Error(`--${name}: "${value}" is not a number of seconds >= ${min}`);
      return value;
    },
  };
}

export const trustDomainOption = { type: 'string', default: DEFAULT_TRUST_DOMAIN, describe: 'Secure mode: the SPIFFE trust domain (must match the CA)' } as const satisfies Options;

export const certLifetimeOption = secondsOption('cert-lifetime', 'Secure mode: seconds a workload or agent certificate lives; renewed at half of it', DEFAULT_CERT_LIFETIME_MS / 1000, 10);

/**
 * After SIGTERM the process is not ready but keeps accepting for the drain window (the endpoint
 * removal must reach kube-proxy on every node), then stops accepting and lets what is in flight
 * finish within the drain timeout. terminationGracePeriodSeconds must exceed the two together.
 */
export const drainWindowOption = secondsOption('drain-window', 'Seconds to keep accepting after SIGTERM while /readyz fails, so endpoint removal reaches kube-proxy first', 5, 0);

export function drainTimeoutOption(defaultSeconds: number) {
  return secondsOption('drain-timeout', 'Seconds in-flight requests and streams may take after the drain window before they are cut', defaultSeconds, 0);
}
