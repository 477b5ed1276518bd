/**
 * Golden MeshConfigs of realistic clusters: test/fixtures/clusters/<name>/manifests/*.yaml
 * compiled with <name>/options.json must equal <name>/expected.json. After an intended change,
 * rewrite the goldens with UPDATE_GOLDEN=1 and review the diff.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readManifestDir } from '../../../src/manifests/read.js';
import { Compiler, compile } from '../../../src/routing/compile.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import type { CompileOptions } from '../../../src/routing/compile-options.js';
import { DEFAULT_MESH_DOMAIN } from '../../../src/routing/compile-options.js';
import { FIXTURES } from '../../helpers/paths.js';

const CLUSTERS = join(FIXTURES, 'clusters');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Sources relative to the cluster folder, so goldens do not depend on the checkout's path. */
function portable(config: MeshConfig, dir: string): MeshConfig {
  return {
    ...config,
    problems: config.problems.map((p) => ({
      ...p,
      message: p.message.replaceAll(`${dir}${sep}`, ''),
      ...(p.source ? { source: { ...p.source, file: relative(dir, p.source.file) } } : {}),
    })),
  };
}

describe('routing: golden clusters', () => {
  for (const name of readdirSync(CLUSTERS).sort()) {
    const dir = join(CLUSTERS, name);
    it(name, async () => {
      const options: CompileOptions = { meshDomain: DEFAULT_MESH_DOMAIN, ...JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8')) };
      const { snapshot, errors } = await readManifestDir(join(dir, 'manifests'));
      expect(errors, 'the fixture YAML itself must load').to.deep.equal([]);
      const config = portable(compile(snapshot, options), dir);
      const golden = join(dir, 'expected.json');
      if (UPDATE) writeFileSync(golden, `${JSON.stringify(config, null, 2)}\n`);
      expect(JSON.parse(JSON.stringify(config))).to.deep.equal(JSON.parse(readFileSync(golden, 'utf8')));

      // Compiling again with its own allocation changes nothing; neither does a remembering Compiler.
      const again = new Compiler();
      again.compile(snapshot, options);
      expect(portable(again.compile(snapshot, { ...options, previous: config.allocation }), dir)).to.deep.equal(config);
    });
  }
});
