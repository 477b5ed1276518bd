/**
 * The image story, as install.md tells it: the kustomization at the repository root is exactly
 * manifests/ with a settable image, and the release workflow publishes the image the manifests
 * name, multi-arch, with the CLI tarball. Rendered with the real kubectl when one is installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../helpers/paths.js';

const run = promisify(execFile);

interface Kustomization {
  readonly resources?: string[];
  readonly images?: { readonly name?: string; readonly newName?: string; readonly newTag?: string }[];
}

interface Workflow {
  readonly on?: { readonly push?: { readonly tags?: string[] } };
  readonly env?: Record<string, string>;
  readonly jobs?: Record<string, { readonly steps?: { readonly uses?: string; readonly run?: string; readonly with?: Record<string, unknown> }[] }>;
}

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

/** The images of the DaemonSet's containers, as manifests/ names them. */
function manifestImages(): string[] {
  const images: string[] = [];
  for (const file of readdirSync(join(REPO_ROOT, 'manifests'))) {
    for (const doc of parseAllDocuments(read(`manifests/${file}`))) {
      const object = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | null;
      if (object?.kind === 'DaemonSet' || object?.kind === 'Deployment') {
        for (const container of object.spec?.template?.spec?.containers ?? []) if (container.image) images.push(container.image);
      }
    }
  }
  return images;
}

/** kubectl on PATH, else the Kubernetes kit's; null when there is none. */
function kubectl(): string | null {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'kubectl')), '/var/lib/plexus-kube/bin/kubectl'];
  return candidates.find((path) => existsSync(path)) ?? null;
}

describe('install: the image and the kustomization', () => {
  const kustomization = parse(read('kustomization.yaml')) as Kustomization;

  it('the root kustomization lists every file of manifests/, in order', () => {
    const files = readdirSync(join(REPO_ROOT, 'manifests')).filter((f) => f.endsWith('.yaml')).sort();
    const missing = files.filter((f) => !kustomization.resources?.includes(`manifests/${f}`));
    if (missing.length > 0) expect.fail(`kustomization.yaml does not list ${missing.join(', ')}: add under resources:\n${missing.map((f) => `  - manifests/${f}`).join('\n')}`);
    expect(kustomization.resources).to.deep.equal(files.map((f) => `manifests/${f}`));
  });

  it('sets the image the manifests name, at the package version', () => {
    const images = manifestImages();
    expect(images).to.not.be.empty;
    for (const image of images) expect(image, 'manifests/ name the image of this version').to.equal(`ghcr.io/plexus-mesh/plexus:${version}`);
    expect(kustomization.images).to.deep.equal([{ name: 'ghcr.io/plexus-mesh/plexus', newTag: version }]);
  });

  it('the release workflow publishes that image multi-arch on a version tag, with the CLI tarball', () => {
    const workflow = parse(read('.github/workflows/release.yml')) as Workflow;
    expect(workflow.on?.push?.tags).to.deep.equal(['v*.*.*']);
    expect(workflow.env?.UPSTREAM_IMAGE).to.equal('ghcr.io/plexus-mesh/plexus');
    const steps = Object.values(workflow.jobs ?? {}).flatMap((job) => job.steps ?? []);
    const build = steps.find((step) => step.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).to.include({ push: true, platforms: 'linux/amd64,linux/arm64' });
    for (const action of ['docker/setup-qemu-action@', 'docker/setup-buildx-action@', 'docker/login-action@', 'softprops/action-gh-release@']) {
      expect(steps.some((step) => step.uses?.startsWith(action)), action).to.equal(true);
    }
    expect(steps.some((step) => step.run?.includes('npm pack'))).to.equal(true);
    const release = steps.find((step) => step.uses?.startsWith('softprops/action-gh-release@'));
    expect(String(release?.with?.files)).to.contain('plexus-${{ needs.check.outputs.version }}.tgz').and.to.contain('plexus.yaml');
  });

  describe('rendered by kubectl kustomize', function () {
    this.timeout(60_000);
    const binary = kubectl();
    let dir: string;
    before(async function () {
      if (binary === null) this.skip(); // no kubectl on this machine: the static checks above still ran
      dir = await mkdtemp(join(tmpdir(), 'plexus-kustomize-'));
    });
    after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

    it('renders the objects of manifests/ unchanged, image included', async () => {
      const { stdout } = await run(binary!, ['kustomize', REPO_ROOT], { maxBuffer: 64 << 20 });
      const rendered = parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      const expected = readdirSync(join(REPO_ROOT, 'manifests')).flatMap((f) => parseAllDocuments(read(`manifests/${f}`)).map((d) => d.toJS() as { kind: string; metadata: { name: string } }));
      const names = (objects: { kind: string; metadata: { name: string } }[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(names(rendered)).to.deep.equal(names(expected));
      expect(stdout).to.contain(`image: ghcr.io/plexus-mesh/plexus:${version}`);
    });

    it('the release workflow\'s plexus.yaml overlay renders with the release image', async () => {
      const workflow = parse(read('.github/workflows/release.yml')) as Workflow;
      const script = Object.values(workflow.jobs ?? {}).flatMap((job) => job.steps ?? []).find((step) => step.run?.includes('kubectl kustomize'))?.run ?? '';
      const heredoc = /<<YAML\n([\s\S]*?)\nYAML\n/.exec(script)?.[1];
      expect(heredoc, 'the step writes .release/kustomization.yaml from a heredoc').to.be.a('string');
      expect(heredoc).to.match(/^resources: \[\.\.\]/m);
      const overlay = join(dir, 'release');
      await run('mkdir', ['-p', overlay]);
      await writeFile(join(overlay, 'kustomization.yaml'), heredoc!
        .replace(/^resources: \[\.\.\]/m, `resources: [${relative(overlay, REPO_ROOT)}]`)
        .replace('${UPSTREAM_IMAGE}', 'ghcr.io/plexus-mesh/plexus')
        .replace('${{ needs.image.outputs.image }}', 'ghcr.io/someone/plexus')
        .replace('${{ needs.check.outputs.version }}', version));
      const { stdout } = await run(binary!, ['kustomize', overlay], { maxBuffer: 64 << 20 });
      expect(stdout).to.contain(`image: ghcr.io/someone/plexus:${version}`);
    });

    it('an overlay outside the repository sets another image without editing any file of it', async () => {
      const overlay = join(dir, 'my-plexus');
      await run('mkdir', ['-p', overlay]);
      await writeFile(join(overlay, 'kustomization.yaml'), [
        `resources: [${relative(overlay, REPO_ROOT)}]`,
        'images:',
        '  - name: ghcr.io/plexus-mesh/plexus',
        '    newName: registry.example.com/team/plexus',
        '    newTag: dev',
        '',
      ].join('\n'));
      const { stdout } = await run(binary!, ['kustomize', overlay], { maxBuffer: 64 << 20 });
      expect(stdout).to.contain('image: registry.example.com/team/plexus:dev');
      expect(stdout).not.to.contain('ghcr.io/plexus-mesh/plexus');
    });
  });
});
