/** Option definitions shared by several commands, so names, defaults and help stay identical. */
import { hostname } from 'node:os';
import type { Options } from 'yargs';
import { DEFAULT_MESH_DOMAIN, DEFAULT_VIP_CIDR } from '../routing/compile-options.js';

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

/** A TCP/UDP port option: an integer 0-65535. */
export function portOption(describe: string, defaultValue: number) {
  return {
    type: 'number' as const,
    default: defaultValue,
    describe,
    coerce: (value: number) => {
      if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`"${value}" is not a port number (0-65535)`);
      return value;
    },
  };
}
