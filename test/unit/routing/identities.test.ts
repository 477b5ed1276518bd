import { expect } from 'chai';
import { compileObjects, pod } from './builders.js';

describe('routing: source identities of the node', () => {
  it('lists running pods of this node (and pods without a node), IPv4 numerically first', () => {
    const config = compileObjects([
      pod('web-1', { ip: '10.0.0.20', nodeName: 'node-a', serviceAccount: 'web' }),
      pod('web-2', { ip: '10.0.0.3', nodeName: 'node-b', serviceAccount: 'web' }),
      pod('cli', { namespace: 'tools', ips: ['10.0.0.5', 'fd00::5'] }),
      pod('done', { ip: '10.0.0.6', nodeName: 'node-a', phase: 'Succeeded' }),
      pod('failed', { ip: '10.0.0.7', nodeName: 'node-a', phase: 'Failed' }),
      pod('host', { ip: '192.168.1.1', nodeName: 'node-a', hostNetwork: true }),
      pod('pending', { nodeName: 'node-a' }),
    ]);
    expect(config.identities).to.deep.equal([
      { ip: '10.0.0.5', namespace: 'tools', pod: 'cli', serviceAccount: 'default' },
      { ip: '10.0.0.20', namespace: 'shop', pod: 'web-1', serviceAccount: 'web' },
      { ip: 'fd00::5', namespace: 'tools', pod: 'cli', serviceAccount: 'default' },
    ]);
  });

  it('is per node', () => {
    const objects = [pod('a', { ip: '10.0.0.1', nodeName: 'node-a' }), pod('b', { ip: '10.0.0.2', nodeName: 'node-b' })];
    expect(compileObjects(objects, { nodeName: 'node-b' }).identities.map((i) => i.pod)).to.deep.equal(['b']);
  });

  it('reports two live pods with one IP and keeps the first by namespace/name', () => {
    const config = compileObjects([pod('b', { ip: '10.0.0.1', nodeName: 'node-a' }), pod('a', { ip: '10.0.0.1', nodeName: 'node-a' })]);
    expect(config.identities.map((i) => i.pod)).to.deep.equal(['a']);
    expect(config.problems.map((p) => `${p.name}: ${p.message}`)).to.deep.equal(['b: IP 10.0.0.1 is also held by Pod shop/a (that one identifies the source)']);
  });
});
