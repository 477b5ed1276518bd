/** Own names: the hosts region inside the cluster domain's server block, and the hosts file. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorefilePatchError, patchCorefile, unpatchCorefile } from '../../../src/dns/corefile.js';
import { patchOwnNames, renderOwnNamesHosts } from '../../../src/dns/own-names.js';
import { FIXTURES } from '../../helpers/paths.js';

const corefileOf = (name: string): string => readFileSync(join(FIXTURES, 'corefiles', name), 'utf8');
const MESH = { meshDomain: 'plexus', namespace: 'plexus', clusterDomain: 'cluster.local', version: null };

describe('dns: own names in the Corefile', () => {
  it('puts one hosts plugin (fallthrough) inside the block of the cluster domain, idempotently, removed byte-exact', () => {
    const original = corefileOf('kubeadm-1.11.Corefile');
    const { corefile, changed } = patchOwnNames(original, 'plexus', 'cluster.local');
    expect(changed).to.equal(true);
    const lines = corefile.split('\n');
    expect(lines.slice(0, 5)).to.deep.equal([
      '.:53 {',
      '    # BEGIN plexus own-names=plexus',
      '    # Managed by Plexus; `plexus cleanup` removes it. Meshed Services with plexus.dev/own-names answer with their shadow ClusterIP.',
      '    hosts /etc/plexus-own-names/hosts {',
      '        ttl 5',
    ]);
    expect(corefile).to.include('        fallthrough\n    }\n    # END plexus own-names=plexus\n\n    errors');
    expect(patchOwnNames(corefile, 'plexus', 'cluster.local')).to.deep.equal({ corefile, changed: false });
    expect(unpatchCorefile(corefile).corefile).to.equal(original);
  });

  it('lives beside the mesh block: each is refreshed alone and cleanup removes both', () => {
    const original = corefileOf('crlf.Corefile');
    const both = patchCorefile(patchOwnNames(original, 'plexus', 'cluster.local').corefile, MESH).corefile;
    expect(patchOwnNames(both, 'plexus', 'cluster.local').changed).to.equal(false);
    expect(patchCorefile(both, MESH).changed).to.equal(false);
    expect(both).to.include('# BEGIN plexus own-names=plexus\r\n');
    expect(unpatchCorefile(both).corefile).to.equal(original);
    expect(unpatchCorefile(both, 'plexus').corefile).to.equal(original);
  });

  it('refuses a cluster-domain block with a hosts plugin of its own, and a Corefile without the cluster domain', () => {
    expect(() => patchOwnNames(corefileOf('k3s.Corefile'), 'plexus', 'cluster.local')).to.throw(CorefilePatchError, /line 9: .*has a hosts plugin already/);
    expect(() => patchOwnNames(corefileOf('kubeadm-1.11.Corefile'), 'plexus', 'example.internal')).to.throw(CorefilePatchError, /no server block .* example\.internal/);
  });

  it('renders the hosts file sorted, one line per shadow address', () => {
    const hosts = renderOwnNamesHosts([
      { namespace: 'shop', name: 'web', addresses: ['10.96.0.20', 'fd00::20'] },
      { namespace: 'billing', name: 'api', addresses: ['10.96.0.30'] },
    ], 'cluster.local');
    expect(hosts.split('\n').slice(1)).to.deep.equal([
      '10.96.0.20 web.shop.svc.cluster.local', '10.96.0.30 api.billing.svc.cluster.local', 'fd00::20 web.shop.svc.cluster.local', '',
    ]);
  });
});
