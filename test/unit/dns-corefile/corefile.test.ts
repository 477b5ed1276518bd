import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REPO_ROOT } from '../../helpers/paths.js';
import { CorefilePatchError, MarkerError, patchCorefile, unpatchCorefile, type CoreDnsVersion, type MeshDnsOptions, type ServiceRef } from '../../../src/dns/corefile.js';
import { shadowServiceName } from '../../../src/dns/shadow-name.js';
import { parseStructure, pick, randomEdit, randomLabel, rewriteRules, simulate, walk, type Node } from './corefile-structure.js';
import { seededRandom as prng } from '../../helpers/prng.js';

const CORPUS = join(FIXTURES, 'corefiles');
const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.Corefile'))
  .sort()
  .map((file) => ({ file, text: readFileSync(join(CORPUS, file), 'utf8') }));
const foreign = readdirSync(join(CORPUS, 'foreign'))
  .sort()
  .map((file) => ({ file, text: readFileSync(join(CORPUS, 'foreign', file), 'utf8') }));

const VERSIONS: ReadonlyArray<CoreDnsVersion | null> = [[1, 3, 1], [1, 4, 0], [1, 6, 7], [1, 7, 0], [1, 8, 0], [1, 11, 3], null];

const base: MeshDnsOptions = { meshDomain: 'plexus', namespace: 'plexus', clusterDomain: 'cluster.local', version: [1, 11, 3] };

/** The Plexus server block of a patched Corefile. */
function meshBlock(structure: readonly Node[], meshDomain: string): Node {
  const block = structure.find((n) => n.children && n.words[0] === `${meshDomain}:53`);
  if (!block) throw new Error(`no server block for ${meshDomain}`);
  return block;
}

function checkPatched(patched: string, opts: MeshDnsOptions): void {
  const structure = parseStructure(patched);
  const block = meshBlock(structure, opts.meshDomain);
  const upstream = [...walk([block])].filter((n) => n.words[0] === 'upstream');
  const modern = opts.version === null || opts.version[0] > 1 || opts.version[1] >= 7;
  expect(upstream.length, `upstream in the mesh block for ${JSON.stringify(opts.version)}`).to.equal(modern ? 0 : 1);
  const kubernetes = (block.children ?? []).find((n) => n.words[0] === 'kubernetes');
  expect(kubernetes?.words).to.deep.equal(['kubernetes', opts.clusterDomain]);
  expect(kubernetes?.children?.map((n) => n.words), 'only the mesh namespace is visible').to.deep.include(['namespaces', opts.namespace]);
}

describe('patchCorefile / unpatchCorefile on the corpus', () => {
  for (const { file, text } of corpus) {
    describe(file, () => {
      it('is itself a valid Corefile (sanity of the corpus)', () => {
        expect(() => parseStructure(text)).not.to.throw();
      });
      for (const version of VERSIONS) {
        it(`patch, re-patch and unpatch with CoreDNS ${version ? version.join('.') : 'unknown'}`, () => {
          const opts = { ...base, version };
          const once = patchCorefile(text, opts);
          expect(once.changed).to.equal(true);
          expect(once.corefile.startsWith(text), 'every original byte kept in place').to.equal(true);
          checkPatched(once.corefile, opts);
          const twice = patchCorefile(once.corefile, opts);
          expect(twice).to.deep.equal({ corefile: once.corefile, changed: false });
          expect(unpatchCorefile(once.corefile)).to.deep.equal({ corefile: text, changed: true });
          expect(unpatchCorefile(text)).to.deep.equal({ corefile: text, changed: false });
        });
      }
    });
  }
});

describe('patchCorefile with generated edits (seeded)', () => {
  it('round-trips 400 edited Corefiles with random options', () => {
    const rand = prng(20261123);
    for (let i = 0; i < 400; i++) {
      const original = randomEdit(rand, pick(rand, corpus).text);
      expect(() => parseStructure(original), `edit ${i} produced an invalid Corefile`).not.to.throw();
      const services: ServiceRef[] = Array.from({ length: Math.floor(rand() * 4) }, () => ({
        namespace: randomLabel(rand, 'alnum'),
        name: randomLabel(rand, 'letter'),
      }));
      const opts: MeshDnsOptions = {
        meshDomain: pick(rand, ['plexus', 'mesh.local', 'svc-mesh']),
        namespace: pick(rand, ['plexus', 'mesh-system']),
        clusterDomain: pick(rand, ['cluster.local', 'k8s.example.internal']),
        version: pick(rand, VERSIONS),
        services,
      };
      const once = patchCorefile(original, opts);
      checkPatched(once.corefile, opts);
      expect(patchCorefile(once.corefile, opts).changed, `edit ${i}: second patch`).to.equal(false);
      expect(unpatchCorefile(once.corefile).corefile, `edit ${i}: unpatch`).to.equal(original);
    }
  });
});

describe('patchCorefile in place', () => {
  const text = corpus.find((c) => c.file === 'k3s.Corefile')?.text ?? '';

  it('replaces an outdated block where it is and keeps what the user added after it', () => {
    const old = patchCorefile(text, { ...base, version: [1, 6, 0] }).corefile;
    const userAdded = 'example.org:53 {\n    forward . 10.0.0.1\n}\n';
    const edited = old + userAdded;
    const refreshed = patchCorefile(edited, base);
    expect(refreshed.changed).to.equal(true);
    expect(refreshed.corefile).to.equal(patchCorefile(text, base).corefile + userAdded);
    expect(unpatchCorefile(refreshed.corefile).corefile).to.equal(text + userAdded);
  });

  it('keeps blocks of two mesh domains apart', () => {
    const a = patchCorefile(text, base).corefile;
    const ab = patchCorefile(a, { ...base, meshDomain: 'mesh.example' }).corefile;
    expect(patchCorefile(ab, base).changed).to.equal(false);
    expect(unpatchCorefile(ab, 'mesh.example').corefile).to.equal(a);
    expect(unpatchCorefile(ab, 'plexus').corefile).to.equal(patchCorefile(text, { ...base, meshDomain: 'mesh.example' }).corefile);
    expect(unpatchCorefile(ab).corefile).to.equal(text);
  });

  it('changes the block when the hashed Services change, and only then', () => {
    const services = [{ namespace: 'shop', name: 'web--v2' }, { namespace: 'shop', name: 'web' }];
    const one = patchCorefile(text, { ...base, services }).corefile;
    expect(patchCorefile(one, { ...base, services: [...services].reverse() }).changed).to.equal(false);
    expect(patchCorefile(one, { ...base, services: [{ namespace: 'shop', name: 'web--v2' }] }).changed).to.equal(false);
    expect(patchCorefile(one, base).changed).to.equal(true);
  });
});

describe('patchCorefile on unusual bytes', () => {
  const simple = '.:53 {\n    errors\n    forward . /etc/resolv.conf\n}\n';

  it('reads a byte order mark and non-ASCII whitespace as CoreDNS does, and keeps them', () => {
    for (const text of [`\uFEFF${simple}`, simple.replace('forward .', 'forward\u00a0.'), simple.replace('errors', '\ferrors\v'), `\uFEFF\uFEFF${simple}`]) {
      const once = patchCorefile(text, base);
      expect(once.corefile.startsWith(text)).to.equal(true);
      expect(patchCorefile(once.corefile, base).changed).to.equal(false);
      expect(unpatchCorefile(once.corefile).corefile).to.equal(text);
    }
  });

  it('keeps a final lone carriage return', () => {
    for (const text of [simple.replace(/\n$/, '\r'), simple.replace(/\n/g, '\r')]) {
      const once = patchCorefile(text, base);
      expect(patchCorefile(once.corefile, base).changed).to.equal(false);
      expect(unpatchCorefile(once.corefile).corefile).to.equal(text);
    }
  });
});

describe('the mesh block listens where the root server block does', () => {
  const blockKey = (corefile: string): string | undefined => /^(plexus:\d+) \{$/m.exec(corefile)?.[1];

  it('takes the explicit port of the first plain-DNS root block, else 53', () => {
    expect(blockKey(patchCorefile('.:1053 {\n    errors\n}\n', base).corefile)).to.equal('plexus:1053');
    expect(blockKey(patchCorefile('dns://.:5353 {\n    errors\n}\n', base).corefile)).to.equal('plexus:5353');
    expect(blockKey(patchCorefile('tls://.:853 {\n    errors\n}\n.:1053 {\n    errors\n}\n', base).corefile)).to.equal('plexus:1053');
    expect(blockKey(patchCorefile('example.org:1053 {\n    errors\n}\n. {\n    errors\n}\n', base).corefile)).to.equal('plexus:53');
    expect(blockKey(patchCorefile('', base).corefile)).to.equal('plexus:53');
    expect(blockKey(patchCorefile('.:1053 {\n    errors\n}\n', { ...base, port: 2053 }).corefile)).to.equal('plexus:2053');
  });

  it('refreshes the block when the root port changes', () => {
    const at53 = patchCorefile('.:53 {\n    errors\n}\n', base).corefile;
    const moved = patchCorefile(at53.replace('.:53', '.:1053'), base);
    expect(moved.changed).to.equal(true);
    expect(blockKey(moved.corefile)).to.equal('plexus:1053');
  });
});

describe('patchCorefile refuses', () => {
  for (const { file, text } of foreign) {
    it(`a foreign mesh-domain block (${file})`, () => {
      expect(() => patchCorefile(text, base)).to.throw(CorefilePatchError, /not written by Plexus/);
    });
  }

  it('damaged markers, with the line', () => {
    const patched = patchCorefile(corpus[0]?.text ?? '', base).corefile;
    const noEnd = patched.replace('# END plexus mesh-domain=plexus', '');
    expect(() => patchCorefile(noEnd, base)).to.throw(MarkerError, /no END marker/);
    expect(() => unpatchCorefile(noEnd)).to.throw(MarkerError, /line \d+/);
    const twice = patched + patched.slice(patched.indexOf('# BEGIN'));
    expect(() => unpatchCorefile(twice)).to.throw(MarkerError, /second Plexus mesh-domain block/);
  });

  it('unbalanced braces and braceless server blocks', () => {
    expect(() => patchCorefile('.:53 {\n    errors\n', base)).to.throw(CorefilePatchError, /never closed/);
    expect(() => patchCorefile('.:53\nforward . 1.1.1.1\n', base)).to.throw(CorefilePatchError, /no braces/);
  });

  it('bad options and CoreDNS older than 1.3', () => {
    expect(() => patchCorefile('', { ...base, meshDomain: 'Bad_Domain' })).to.throw(CorefilePatchError, /mesh domain/);
    expect(() => patchCorefile('', { ...base, meshDomain: 'cluster.local' })).to.throw(CorefilePatchError, /both/);
    expect(() => patchCorefile('', { ...base, namespace: 'a.b' })).to.throw(CorefilePatchError, /namespace/);
    expect(() => patchCorefile('', { ...base, version: [1, 2, 6] })).to.throw(CorefilePatchError, /older than 1\.3/);
    expect(() => patchCorefile('', { ...base, port: 0 })).to.throw(CorefilePatchError, /port/);
  });
});

describe('the mesh block resolves every Service to its shadow Service', () => {
  it('maps queries to shadow names and answers back, for short, long and `--` names (seeded)', () => {
    const rand = prng(7);
    const services: ServiceRef[] = [
      { namespace: 'shop', name: 'web' },
      { namespace: 'shop', name: 'web-api' },
      { namespace: 'kube-system', name: 'a--b' },
      { namespace: 'a-b-c', name: 'x' },
      { namespace: 'n'.repeat(63), name: 's'.repeat(63) },
      ...Array.from({ length: 300 }, () => ({ namespace: randomLabel(rand, 'alnum'), name: randomLabel(rand, 'letter') })),
    ];
    for (const opts of [{ ...base, services }, { ...base, meshDomain: 'mesh.example.com', namespace: 'mesh-system', clusterDomain: 'k8s.internal', services }]) {
      const block = meshBlock(parseStructure(patchCorefile('', opts).corefile), opts.meshDomain);
      const rules = rewriteRules(block);
      for (const { namespace, name } of services) {
        const query = `${name}.${namespace}.${opts.meshDomain}.`;
        const shadowFqdn = `${shadowServiceName(namespace, name)}.${opts.namespace}.svc.${opts.clusterDomain}.`;
        const result = simulate(rules, query);
        expect(result?.rewritten, query).to.equal(shadowFqdn);
        expect(result?.answer(shadowFqdn), query).to.equal(query);
      }
      expect(simulate(rules, `web.shop.other-domain.`)).to.equal(null);
      expect(simulate(rules, `too.many.labels.${opts.meshDomain}.`)).to.equal(null);
    }
  });

  it('leaves out names Kubernetes would reject instead of writing them into the Corefile', () => {
    const services = [{ namespace: 'shop', name: 'web api}' }, { namespace: 'Shop', name: 'a--b' }, { namespace: 'shop', name: 'x'.repeat(64) }];
    expect(patchCorefile('', { ...base, services }).corefile).to.equal(patchCorefile('', base).corefile);
  });

  it('writes one rule per hashed Service only', () => {
    const services = [{ namespace: 'shop', name: 'web' }, { namespace: 'shop', name: 'web--v2' }];
    const block = meshBlock(parseStructure(patchCorefile('', { ...base, services }).corefile), 'plexus');
    expect(rewriteRules(block)).to.have.length(2);
  });
});

describe('docs/dns.md', () => {
  it('shows exactly the block Plexus writes', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'dns.md'), 'utf8');
    const shown = /```\n(# BEGIN plexus[\s\S]*?# END plexus mesh-domain=plexus\n)```/.exec(docs)?.[1];
    const written = patchCorefile('', { ...base, services: [{ namespace: 'shop', name: 'a--b' }] }).corefile.slice(1);
    expect(shown).to.equal(written);
  });
});
