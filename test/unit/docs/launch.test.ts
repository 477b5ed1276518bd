/**
 * How the agent is launched, held to its one place: bin/plexus.js's first line gives node its
 * options (src/cli/launch.ts). The image runs that file, the manifests keep the image's
 * entrypoint and add none of those options again, the bench starts agents with them, and
 * docs/performance.md names the same line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { agentCommand } from '../../../bench/lib/agent.js';
import { launchNodeOptions, nodeOptionsOf, PLEXUS_BIN } from '../../../src/cli/launch.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { at, loadManifests, type Json } from '../manifests-install/load-manifests.js';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const firstLine = (): string => readFileSync(PLEXUS_BIN, 'utf8').split('\n', 1)[0] ?? '';

describe('launch: the node options of every plexus process, in bin/plexus.js', () => {
  it('reads the options from an env -S first line, and refuses any other', () => {
    expect(nodeOptionsOf('#!/usr/bin/env -S node --a=1 --b')).to.deep.equal(['--a=1', '--b']);
    expect(nodeOptionsOf('#!/usr/bin/env -S node')).to.deep.equal([]);
    expect(() => nodeOptionsOf('#!/usr/bin/env node --a')).to.throw(/first line must be/);
    expect(() => nodeOptionsOf('import x;')).to.throw(/first line must be/);
  });

  it('bin/plexus.js sets the young generation and the V8 worker pool that docs/performance.md explains', () => {
    expect(launchNodeOptions()).to.include.members(['--max-semi-space-size=1', '--v8-pool-size=1']);
    const doc = read('docs/performance.md');
    expect(doc, 'docs/performance.md quotes the first line of bin/plexus.js').to.include(`\`${firstLine()}\``);
    for (const option of launchNodeOptions()) expect(doc).to.include(`\`${option.split('=')[0]}`);
  });

  it('the image runs bin/plexus.js itself (its first line applies), never `node` with other options', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).to.match(/^RUN ln -s \/opt\/plexus\/bin\/plexus\.js \/usr\/local\/bin\/plexus$/m);
    expect(dockerfile).to.match(/^COPY --from=build \/src\/bin \.\/bin$/m);
    expect(dockerfile).to.match(/^ENTRYPOINT \["plexus"\]$/m);
    expect(dockerfile).to.not.match(/^(ENTRYPOINT|CMD) .*node/m);
  });

  it('the DaemonSet and the issuer keep the image entrypoint and repeat none of its node options', () => {
    const workloads = loadManifests().filter((m) => m.object['kind'] === 'DaemonSet' || m.object['kind'] === 'Deployment');
    expect(workloads.map((m) => at(m.object, 'metadata', 'name'))).to.include.members(['plexus-agent', 'plexus-issuer']);
    const names = launchNodeOptions().map((option) => option.split('=')[0]);
    for (const { file, object } of workloads) {
      const containers = at(object, 'spec', 'template', 'spec', 'containers') as Json[];
      for (const container of containers) {
        expect(at(container, 'command'), `${file}: a command replaces the image's entrypoint`).to.equal(undefined);
        const env = (at(container, 'env') ?? []) as Json[];
        const nodeOptions = env.find((variable) => at(variable, 'name') === 'NODE_OPTIONS');
        const value = String(at(nodeOptions, 'value') ?? '');
        for (const name of names) expect(value, `${file}: NODE_OPTIONS sets ${name} again`).to.not.include(name);
      }
    }
  });

  it('the bench starts agents with the same options, through the same entry', () => {
    const { args, commandLine } = agentCommand({ manifestsDir: '/m', vipCidr: '127.1.0.0/24', acl: false, cpu: 1, readyTimeoutMs: 1 });
    expect(args.slice(0, launchNodeOptions().length)).to.deep.equal([...launchNodeOptions()]);
    expect(commandLine).to.equal(`taskset -c 1 node ${launchNodeOptions().join(' ')} bin/plexus.js agent --manifests /m --vip-cidr 127.1.0.0/24 --dns-port 0 --admin-port 0`);
  });
});
