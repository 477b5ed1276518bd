import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/paths.js';
import { at, find, isObject, loadManifests, manifestFiles, type Json } from './load-manifests.js';

const manifests = loadManifests();
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACED = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'DaemonSet', 'Deployment', 'Service', 'PodDisruptionBudget']);
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  CustomResourceDefinition: 'apiextensions.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  DaemonSet: 'apps/v1',
  Deployment: 'apps/v1',
  Service: 'v1',
  PodDisruptionBudget: 'policy/v1',
};

describe('manifests/: every file is Kubernetes objects', () => {
  it('holds only YAML files, each with at least one object', () => {
    for (const file of manifestFiles()) {
      expect(file).to.match(/^\d\d-[a-z0-9-]+\.yaml$/);
      expect(manifests.filter((m) => m.file === file), file).not.to.be.empty;
    }
  });

  it('every object has a known kind, its apiVersion, a valid name, the right scope and the plexus labels', () => {
    const seen = new Set<string>();
    for (const { file, object } of manifests) {
      const kind = object['kind'];
      expect(typeof kind === 'string' && kind in API_VERSIONS, `${file}: kind ${String(kind)}`).to.equal(true);
      expect(object['apiVersion'], `${file} ${String(kind)}`).to.equal(API_VERSIONS[kind as string]);
      const name = at(object, 'metadata', 'name');
      expect(typeof name === 'string' && name.length <= 253 && dns1123Subdomain.test(name), `${file}: name ${String(name)}`).to.equal(true);
      const namespace = at(object, 'metadata', 'namespace');
      if (NAMESPACED.has(kind as string)) expect(['plexus', 'kube-system'], `${file}: namespace`).to.include(namespace);
      if (CLUSTER_SCOPED.has(kind as string)) expect(namespace, `${file}: cluster-scoped`).to.equal(undefined);
      expect(at(object, 'metadata', 'labels', 'app.kubernetes.io/part-of'), `${file}: labels`).to.equal('plexus');
      const key = `${String(kind)}/${String(namespace)}/${String(name)}`;
      expect(seen.has(key), `duplicate ${key}`).to.equal(false);
      seen.add(key);
    }
  });

  it('creates the namespace before anything that lives in it (kubectl applies files in name order)', () => {
    expect(manifests[0]?.object['kind']).to.equal('Namespace');
    expect(at(manifests[0]?.object, 'metadata', 'name')).to.equal('plexus');
  });

  it('binds roles that exist to the ServiceAccounts that exist: the agent\'s and the issuer\'s', () => {
    for (const name of ['plexus-agent', 'plexus-issuer']) find(manifests, 'ServiceAccount', name, 'plexus');
    for (const { object } of manifests.filter((m) => m.object['kind'] === 'RoleBinding' || m.object['kind'] === 'ClusterRoleBinding')) {
      const refKind = at(object, 'roleRef', 'kind') as string;
      const refNamespace = refKind === 'Role' ? (at(object, 'metadata', 'namespace') as string) : undefined;
      find(manifests, refKind, at(object, 'roleRef', 'name') as string, refNamespace);
      expect(at(object, 'roleRef', 'apiGroup')).to.equal('rbac.authorization.k8s.io');
      const component = at(object, 'metadata', 'labels', 'app.kubernetes.io/component');
      expect(at(object, 'subjects')).to.deep.equal([{ kind: 'ServiceAccount', name: component === 'issuer' ? 'plexus-issuer' : 'plexus-agent', namespace: 'plexus' }]);
    }
  });
});

describe('manifests/: the agent DaemonSet', () => {
  const ds = find(manifests, 'DaemonSet', 'plexus-agent', 'plexus');
  const pod = at(ds, 'spec', 'template', 'spec');
  const containers = at(pod, 'containers') as Json[];
  const agent = containers[0];
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('selects exactly its own pods', () => {
    const selector = at(ds, 'spec', 'selector', 'matchLabels');
    const labels = at(ds, 'spec', 'template', 'metadata', 'labels');
    expect(isObject(selector) && Object.keys(selector).length > 0).to.equal(true);
    for (const [key, value] of Object.entries(selector as Record<string, Json>)) expect(at(labels, key), key).to.equal(value);
  });

  it('rolls one node at a time without a gap, on every node', () => {
    expect(at(ds, 'spec', 'updateStrategy')).to.deep.equal({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(at(pod, 'tolerations')).to.deep.equal([{ operator: 'Exists' }]);
    expect(at(pod, 'serviceAccountName')).to.equal('plexus-agent');
  });

  it('runs the agent image of this version with the downward API', () => {
    expect(containers).to.have.length(1);
    expect(at(agent, 'image')).to.equal(`ghcr.io/plexus-mesh/plexus:${version}`);
    const args = at(agent, 'args') as string[];
    expect(args[0]).to.equal('agent');
    expect(args).to.include('--listen-address=$(POD_IP)');
    const env = at(agent, 'env') as Json[];
    const fieldOf = (name: string): Json | undefined => at(env.find((e) => at(e, 'name') === name), 'valueFrom', 'fieldRef', 'fieldPath');
    expect(fieldOf('NODE_NAME')).to.equal('spec.nodeName');
    expect(fieldOf('POD_IP')).to.equal('status.podIP');
    // $(VAR) in args only expands variables defined in env.
    for (const arg of args) for (const [, name] of arg.matchAll(/\$\(([A-Z_]+)\)/g)) expect(fieldOf(name as string), name).to.be.a('string');
  });

  it('gets no Docker-link variables of the Services (PLEXUS_ISSUER_PORT=tcp://... would be read as --issuer-port), nor does the issuer', () => {
    expect(at(pod, 'enableServiceLinks')).to.equal(false);
    const issuer = find(manifests, 'Deployment', 'plexus-issuer');
    expect(at(issuer, 'spec', 'template', 'spec', 'enableServiceLinks')).to.equal(false);
  });

  it('probes /readyz and /healthz on the admin port the agent listens on', () => {
    const ports = at(agent, 'ports') as Json[];
    const admin = ports.find((p) => at(p, 'name') === 'admin');
    expect(at(admin, 'containerPort')).to.equal(9901);
    expect(at(agent, 'args') as string[]).to.include('--admin-port=9901');
    for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']] as const) {
      expect(at(agent, probe, 'httpGet', 'path'), probe).to.equal(path);
      expect([at(admin, 'name'), at(admin, 'containerPort')], probe).to.include(at(agent, probe, 'httpGet', 'port'));
    }
    expect(at(ds, 'spec', 'template', 'metadata', 'annotations', 'prometheus.io/port')).to.equal(String(at(admin, 'containerPort')));
  });

  it('runs non-root, read-only, without privileges, with requests and limits', () => {
    expect(at(pod, 'securityContext', 'runAsNonRoot')).to.equal(true);
    expect(at(pod, 'securityContext', 'runAsUser')).to.be.above(0);
    const sc = at(agent, 'securityContext');
    expect(at(sc, 'readOnlyRootFilesystem')).to.equal(true);
    expect(at(sc, 'allowPrivilegeEscalation')).to.equal(false);
    expect(at(sc, 'privileged')).to.equal(false);
    expect(at(sc, 'capabilities', 'drop')).to.deep.equal(['ALL']);
    expect(at(sc, 'capabilities', 'add')).to.equal(undefined);
    expect(at(pod, 'hostNetwork')).to.equal(undefined);
    for (const kind of ['requests', 'limits']) {
      expect(at(agent, 'resources', kind, 'cpu'), kind).to.be.a('string');
      expect(at(agent, 'resources', kind, 'memory'), kind).to.be.a('string');
    }
  });

  it('mounts only volumes it declares', () => {
    const volumes = (at(pod, 'volumes') as Json[]).map((v) => at(v, 'name'));
    for (const mount of at(agent, 'volumeMounts') as Json[]) expect(volumes).to.include(at(mount, 'name'));
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('builds from a clean clone in a node:20-slim stage and prunes dev dependencies', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).to.be.at.least(2);
    for (const from of froms) expect(from).to.match(/^FROM node:20-slim\b/);
    const runs = instructions.filter((l) => l.startsWith('RUN ')).join(' ');
    expect(runs).to.match(/npm ci\b/);
    expect(runs).to.match(/npm run build:src\b/);
    expect(runs).to.match(/npm prune --omit=dev\b/);
  });

  it('runs plexus as a numeric non-root user', () => {
    const user = instructions.filter((l) => l.startsWith('USER ')).pop();
    expect(user).to.match(/^USER [1-9]\d*(:\d+)?$/);
    expect(instructions.filter((l) => l.startsWith('ENTRYPOINT ')).pop()).to.equal('ENTRYPOINT ["plexus"]');
  });

  it('copies only what a clean clone has, or what its build stage produces', () => {
    const built = ['dist/src', 'node_modules'];
    for (const copy of instructions.filter((l) => l.startsWith('COPY '))) {
      const words = copy.split(/\s+/).slice(1);
      const fromStage = words[0]?.startsWith('--from=') ?? false;
      const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
      for (const source of sources) {
        const path = fromStage ? source.replace(/^\/src\//, '') : source;
        if (fromStage && built.includes(path)) continue;
        expect(existsSync(join(REPO_ROOT, path)), `${copy}: ${path}`).to.equal(true);
      }
    }
  });

  it('ignores local builds and dependencies in the build context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.git']) expect(ignored).to.include(entry);
  });
});
