import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../helpers/paths.js';
import { parseCoreDnsVersion } from '../../../src/dns/corefile.js';
import { customServerKey, patchCustomConfigMap, plexusCustomKeys } from '../../../src/dns/corefile-custom.js';
import { hasShortShadowName, shadowServiceName } from '../../../src/dns/shadow-name.js';
import { parseStructure, randomLabel } from './corefile-structure.js';
import { seededRandom as prng } from '../../helpers/prng.js';

describe('parseCoreDnsVersion', () => {
  const known: Array<[string, [number, number, number]]> = [
    ['coredns/coredns:1.8.0', [1, 8, 0]],
    ['registry.k8s.io/coredns/coredns:v1.11.3', [1, 11, 3]],
    ['602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.3-eksbuild.1', [1, 11, 3]],
    ['registry.k8s.io/coredns/coredns:1.11.3@sha256:9caabbf6238b189a65d0d6e6ac138de60d6a1c419e5a341fbbb7c78382559c6e', [1, 11, 3]],
    ['mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4-hotfix.20230411', [1, 9, 4]],
    ['rancher/mirrored-coredns-coredns:1.10.1', [1, 10, 1]],
    ['localhost:5000/coredns:1.7', [1, 7, 0]],
    [' k8s.gcr.io/coredns:1.3.1 ', [1, 3, 1]],
  ];
  for (const [image, version] of known) {
    it(image.trim(), () => expect(parseCoreDnsVersion(image)).to.deep.equal({ version }));
  }
  const unknown = [
    'registry.k8s.io/coredns/coredns@sha256:9caabbf6238b189a65d0d6e6ac138de60d6a1c419e5a341fbbb7c78382559c6e',
    'coredns/coredns',
    'localhost:5000/coredns',
    'coredns/coredns:latest',
    '',
  ];
  for (const image of unknown) {
    it(`unknown: "${image}"`, () => {
      const parsed = parseCoreDnsVersion(image);
      expect(parsed.version).to.equal(null);
      expect(parsed.warning).to.match(/CoreDNS version unknown/);
    });
  }
});

describe('shadowServiceName', () => {
  it('uses <svc>--<ns> when CoreDNS can compute it', () => {
    expect(shadowServiceName('shop', 'web-api')).to.equal('web-api--shop');
    expect(hasShortShadowName('shop', 'web-api')).to.equal(true);
  });

  it('hashes `--` names and long names into DNS-1035 labels without `--`', () => {
    for (const [ns, name] of [['shop', 'a--b'], ['n'.repeat(63), 's'.repeat(63)], ['0ns', 'x'.repeat(60)]] as const) {
      const shadow = shadowServiceName(ns, name);
      expect(hasShortShadowName(ns, name)).to.equal(false);
      expect(shadow).to.match(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(shadow.length).to.be.at.most(63);
      expect(shadow).not.to.include('--');
      expect(shadowServiceName(ns, name)).to.equal(shadow);
    }
  });

  it('is injective and always a valid label (seeded, 5000 pairs)', () => {
    const rand = prng(42);
    const seen = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const ns = randomLabel(rand, 'alnum');
      const name = randomLabel(rand, 'letter');
      const shadow = shadowServiceName(ns, name);
      expect(shadow, `${ns}/${name}`).to.match(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(shadow.length).to.be.at.most(63);
      const owner = seen.get(shadow);
      if (owner !== undefined) expect(owner, shadow).to.equal(`${ns}/${name}`);
      seen.set(shadow, `${ns}/${name}`);
    }
  });

  it('gives a valid label even for names Kubernetes would reject', () => {
    for (const [ns, name] of [['', ''], ['Shop', 'Web_API'], ['x', '9lives'], ['-', '-']]) {
      expect(shadowServiceName(ns as string, name as string)).to.match(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    }
  });
});

describe('coredns-custom (AKS)', () => {
  const opts = { meshDomain: 'plexus', namespace: 'plexus', clusterDomain: 'cluster.local', version: [1, 9, 4] as [number, number, number] };
  const userServer = readFileSync(join(FIXTURES, 'corefiles', 'aks-coredns-custom.server'), 'utf8');

  it('adds one key holding a valid server block, idempotently', () => {
    const data = { 'contoso.server': userServer, 'log.override': 'log\n' };
    const edit = patchCustomConfigMap(data, opts);
    expect(edit.key).to.equal(customServerKey('plexus'));
    expect(edit.changed).to.equal(true);
    expect(() => parseStructure(edit.value)).not.to.throw();
    expect(patchCustomConfigMap({ ...data, [edit.key]: edit.value }, opts).changed).to.equal(false);
    expect(plexusCustomKeys({ ...data, [edit.key]: edit.value })).to.deep.equal([edit.key]);
    expect(plexusCustomKeys({ ...data, [edit.key]: edit.value }, 'other')).to.deep.equal([]);
  });

  it('refuses when another key already serves the mesh domain', () => {
    const data = { 'mesh.server': 'plexus:53 {\n    forward . 10.0.0.9\n}\n' };
    expect(() => patchCustomConfigMap(data, opts)).to.throw(/mesh\.server.*not written by Plexus/);
  });
});

describe('the structural reader used by these tests', () => {
  it('rejects broken Corefiles', () => {
    for (const bad of ['.:53 {\n errors\n', '.:53 {\n}\n}\n', '.:53\nerrors\n', '{\n}\n']) {
      expect(() => parseStructure(bad), JSON.stringify(bad)).to.throw();
    }
  });
});
