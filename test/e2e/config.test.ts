import { join } from 'node:path';
import { expect } from 'chai';
import type { MeshConfig } from '../../src/routing/mesh-config.js';
import { FIXTURES, REPO_ROOT } from '../helpers/paths.js';
import { runPlexus } from './helpers/plexus.js';

const CONFIG_FIXTURES = join(FIXTURES, 'config');

describe('plexus config (the real binary)', () => {
  it('prints a readable summary and exits 0 for a folder without problems', async () => {
    const result = await runPlexus(['config', '--manifests', join(CONFIG_FIXTURES, 'valid'), '--node', 'n1']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('shop/web');
    expect(result.stdout).to.contain('shop/web-v1 weight 90');
    expect(result.stdout).to.contain('shop/web-v2 weight 10');
    expect(result.stdout).to.contain('127.0.10.1:8080');
    expect(result.stdout).to.contain('TrafficTarget shop/frontend-to-web');
    expect(result.stderr).to.equal('');
  });

  it('prints the MeshConfig as JSON with --output json', async () => {
    const result = await runPlexus(['config', '--manifests', join(CONFIG_FIXTURES, 'valid'), '--output', 'json', '--node', 'n1', '--vip-cidr', '127.90.0.0/24']);
    expect(result.code, result.stderr).to.equal(0);
    const config = JSON.parse(result.stdout) as MeshConfig;
    expect(config.nodeName).to.equal('n1');
    expect(config.services.map((s) => s.key)).to.deep.equal(['shop/cart', 'shop/web', 'shop/web-v1', 'shop/web-v2']);
    expect(config.services.every((s) => s.vip?.startsWith('127.90.0.'))).to.equal(true);
  });

  it('reads every option from PLEXUS_<OPTION> too', async () => {
    // Variables for other commands' options (PLEXUS_NODE_NAME is the agent's) are ignored.
    const env = { PLEXUS_OUTPUT: 'json', PLEXUS_NODE: 'from-env', PLEXUS_NODE_NAME: 'agent-only', PLEXUS_UNRELATED: 'x' };
    const result = await runPlexus(['config', '--manifests', join(CONFIG_FIXTURES, 'valid')], 60_000, env);
    expect(result.code, result.stderr).to.equal(0);
    expect((JSON.parse(result.stdout) as MeshConfig).nodeName).to.equal('from-env');
    // The command line wins over the environment.
    const text = await runPlexus(['config', '--manifests', join(CONFIG_FIXTURES, 'valid'), '-o', 'text'], 60_000, env);
    expect(text.stdout).to.match(/^node from-env, mesh domain plexus/);
  });

  it('compiles the shipped example without problems', async () => {
    const result = await runPlexus(['config', '--manifests', join(REPO_ROOT, 'examples', 'shop')]);
    expect(result.code, result.stderr).to.equal(0);
  });

  it('exits 1 with error problems, still printing the config, problems on stderr with file and line', async () => {
    const dir = join(CONFIG_FIXTURES, 'problems');
    const result = await runPlexus(['config', '--manifests', dir]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain('shop/web');
    expect(result.stderr).to.contain(`TrafficSplit shop/web-split: backend Service shop/web-v9 does not exist`);
    expect(result.stderr).to.contain(`Service shop/web: plexus.dev/retry-attempts`);
    expect(result.stderr).to.contain(`${join(dir, 'shop.yaml')}:`);
  });

  it('drops no object silently: a typo is a located error, a kind Plexus does not use is listed as ignored', async () => {
    const dir = join(CONFIG_FIXTURES, 'unused-objects');
    const file = join(dir, 'shop.yaml');
    const result = await runPlexus(['config', '--manifests', dir]);
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stdout).to.match(/^node .*: 1 meshed service,/);
    expect(result.stderr.split('\n').filter((line) => line !== '')).to.deep.equal([
      `error: Servce shop/typo-kind: kind "Servce" is not a kind of apiVersion v1 (did you mean Service?); the object is not used (${file}:22)`,
      `error: Service shop/typo-version: apiVersion "v9" does not exist: the core API group (Service, Pod, …) has only "v1" (${file}:13)`,
      `ignored: Deployment shop/web (apps/v1, ${file}:28): a kind Plexus does not use`,
      `ignored: ConfigMap shop/settings (v1, ${file}:34): a kind Plexus does not use`,
      'plexus: 2 errors found',
    ]);
  });

  it('exits 0 when there are only warnings, and prints them', async () => {
    const result = await runPlexus(['config', '--manifests', join(CONFIG_FIXTURES, 'warnings-only')]);
    expect(result.code).to.equal(0);
    expect(result.stderr).to.match(/^warning: Service shop\/db: /m);
  });

  it('exits 2 on a YAML syntax error, naming the file and line, and prints no config', async () => {
    const dir = join(CONFIG_FIXTURES, 'broken-yaml');
    const result = await runPlexus(['config', '--manifests', dir]);
    expect(result.code).to.equal(2);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.match(new RegExp(`${join(dir, 'nested', 'broken.yaml').replace(/[.]/g, '\\.')}:\\d+: YAML syntax error`));
    expect(result.stderr).to.not.match(/\n\s+at /);
  });

  it('exits 2 for a folder that does not exist, without a stack trace', async () => {
    const result = await runPlexus(['config', '--manifests', join(CONFIG_FIXTURES, 'no-such-folder')]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('no-such-folder');
    expect(result.stderr).to.not.match(/\n\s+at /);
  });

  it('exits 2 on a usage error and 0 for --help and --version', async () => {
    const usage = await runPlexus(['config']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain('manifests');
    const unknown = await runPlexus(['config', '--manifests', '.', '--no-such-option']);
    expect(unknown.code).to.equal(2);
    const help = await runPlexus(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('plexus config');
    const version = await runPlexus(['--version']);
    expect(version.code).to.equal(0);
    expect(version.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
  });
});
