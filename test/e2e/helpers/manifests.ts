/** Small builders for the Kubernetes YAML the end-to-end tests write into temp folders. */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function namespace(name: string): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  annotations:
    plexus.dev/mesh: "true"
`;
}

export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  readonly selector: Readonly<Record<string, string>>;
  readonly protocol?: 'TCP' | 'UDP';
  readonly annotations?: Readonly<Record<string, string>>;
}

export function service(spec: ServiceSpec): string {
  const annotations = Object.entries(spec.annotations ?? {}).map(([k, v]) => `\n    ${k}: "${v}"`).join('');
  const selector = Object.entries(spec.selector).map(([k, v]) => `\n    ${k}: ${v}`).join('');
  return `apiVersion: v1
kind: Service
metadata:
  name: ${spec.name}
  namespace: ${spec.namespace}${annotations ? `\n  annotations:${annotations}` : ''}
spec:
  selector:${selector}
  ports:
    - port: ${spec.port}
      targetPort: ${spec.port}
      protocol: ${spec.protocol ?? 'TCP'}
`;
}

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
  readonly nodeName?: string;
}

export function pod(spec: PodSpec): string {
  const labels = Object.entries(spec.labels ?? {}).map(([k, v]) => `\n    ${k}: ${v}`).join('');
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${spec.name}
  namespace: ${spec.namespace}${labels ? `\n  labels:${labels}` : ''}
spec:
  serviceAccountName: ${spec.serviceAccount ?? 'default'}${spec.nodeName ? `\n  nodeName: ${spec.nodeName}` : ''}
  containers:
    - name: main
      image: example
status:
  phase: Running
  podIP: ${spec.ip}
`;
}

export function trafficSplit(name: string, ns: string, root: string, backends: readonly (readonly [string, number | string])[], version = 'v1alpha4'): string {
  const list = backends.map(([svc, weight]) => `\n    - service: ${svc}\n      weight: ${weight}`).join('');
  return `apiVersion: split.smi-spec.io/${version}
kind: TrafficSplit
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  service: ${root}
  backends:${list}
`;
}

/** An HTTPRouteGroup `routes` with one match per entry, and a TrafficTarget using all of them. */
export function httpAccess(ns: string, name: string, destinationSa: string, sourceSa: string,
  matches: readonly { name: string; pathRegex: string; methods: readonly string[] }[]): string {
  const list = matches.map((m) => `\n    - name: ${m.name}\n      pathRegex: "${m.pathRegex}"\n      methods: [${m.methods.map((x) => `"${x}"`).join(', ')}]`).join('');
  return `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: ${name}-routes
  namespace: ${ns}
spec:
  matches:${list}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  destination:
    kind: ServiceAccount
    name: ${destinationSa}
    namespace: ${ns}
  sources:
    - kind: ServiceAccount
      name: ${sourceSa}
      namespace: ${ns}
  rules:
    - kind: HTTPRouteGroup
      name: ${name}-routes
      matches: [${matches.map((m) => m.name).join(', ')}]
`;
}

/** Documents joined into one multi-document YAML file. */
export function documents(...items: readonly string[]): string {
  return items.join('---\n');
}

export interface ManifestFolder {
  readonly dir: string;
  write(file: string, ...items: string[]): Promise<void>;
  remove(file: string): Promise<void>;
  dispose(): Promise<void>;
}

export async function manifestFolder(): Promise<ManifestFolder> {
  const dir = await mkdtemp(join(tmpdir(), 'plexus-e2e-'));
  return {
    dir,
    // Written beside (a hidden name the agent skips) and renamed into place: the agent never
    // reads a half-written file, a transient state no test means (an editor saving does the same).
    write: async (file, ...items) => {
      const partial = join(dir, `.${file}.partial`);
      await writeFile(partial, documents(...items));
      await rename(partial, join(dir, file));
    },
    remove: (file) => rm(join(dir, file), { force: true }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
