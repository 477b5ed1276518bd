import { expect } from 'chai';
import { Compiler } from '../../../src/routing/compile.js';
import { parseIpv4Cidr } from '../../../src/routing/allocation.js';
import type { MeshConfig } from '../../../src/routing/mesh-config.js';
import type { CompileOptions } from '../../../src/routing/compile-options.js';
import type { RawObject } from '../../../src/model/snapshot.js';
import { compileObjects, OPTIONS, problemsOf, service } from './builders.js';

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

function recompile(objects: RawObject[], previous: MeshConfig, options: Partial<CompileOptions> = {}): MeshConfig {
  return compileObjects(objects, { ...options, previous: previous.allocation });
}

describe('routing: listener ports and virtual IPs', () => {
  it('gives new port keys the lowest free ports in sorted key order', () => {
    const config = compileObjects([service('b'), service('a', { ports: [{ name: 'x', port: 81 }, { name: 'y', port: 80 }] })]);
    expect(config.allocation.ports).to.deep.equal({ 'shop/a:80/TCP': 10000, 'shop/a:81/TCP': 10001, 'shop/b:80/TCP': 10002 });
    expect(config.services.flatMap((s) => s.ports.map((p) => p.listenerPort))).to.deep.equal([10000, 10001, 10002]);
  });

  it('keeps every port of a Service while others are added and removed', () => {
    const first = compileObjects(names('svc-', 10).map((n) => service(n)));
    const kept = ['svc-03', 'svc-07'];
    const changed = [...names('new-', 20), ...kept].map((n) => service(n));
    const second = recompile(changed, first);
    for (const name of kept) expect(second.allocation.ports[`shop/${name}:80/TCP`]).to.equal(first.allocation.ports[`shop/${name}:80/TCP`]);
    const third = recompile([...names('late-', 5), ...kept].map((n) => service(n)), second);
    for (const name of kept) expect(third.allocation.ports[`shop/${name}:80/TCP`]).to.equal(first.allocation.ports[`shop/${name}:80/TCP`]);
    expect(new Set(Object.values(third.allocation.ports)).size).to.equal(7);
  });

  it('frees the ports of deleted Services for new ones', () => {
    const first = compileObjects([service('a'), service('b')]);
    const second = recompile([service('b'), service('c')], first);
    expect(second.allocation.ports).to.deep.equal({ 'shop/b:80/TCP': 10001, 'shop/c:80/TCP': 10000 });
  });

  it('does not depend on the order objects arrive in', () => {
    const objects = names('s', 12).map((n) => service(n));
    expect(compileObjects([...objects].reverse())).to.deep.equal(compileObjects(objects));
  });

  it('reports a full range and gives listener port 0, without failing others', () => {
    const config = compileObjects(names('s', 4).map((n) => service(n)), { listenerPorts: { min: 20000, max: 20002 } });
    expect(Object.keys(config.allocation.ports)).to.have.length(3);
    expect(config.services.map((s) => s.ports[0]!.listenerPort)).to.deep.equal([20000, 20001, 20002, 0]);
    expect(problemsOf(config, 'Service', 's03')).to.deep.equal(['port 80/TCP: no free listener port left in 20000-20002']);
  });

  describe('without a listener port range (local mode: listenerPorts null)', () => {
    const local: Partial<CompileOptions> = { listenerPorts: null, vipCidr: '127.77.0.0/16' };

    it('allocates no listener ports and reports no full range, however many Service ports', () => {
      // More Service ports than the default range holds: none of them needs a listener port.
      const config = compileObjects(names('s', 40).map((n) => service(n)), local);
      expect(config.allocation.ports).to.deep.equal({});
      expect(config.services.flatMap((s) => s.ports.map((p) => p.listenerPort)).every((port) => port === 0)).to.equal(true);
      expect(config.problems).to.deep.equal([]);
      expect(config.services.map((s) => s.vip)).to.have.length(40).and.not.include(null);
    });

    it('still allocates virtual IPs stably, and ignores previous listener ports', () => {
      const first = compileObjects([service('a'), service('b')], local);
      const previous = { ports: { 'shop/a:80/TCP': 10000 }, vips: first.allocation.vips };
      const second = compileObjects([service('0-first'), service('b')], { ...local, previous });
      expect(second.allocation.ports).to.deep.equal({});
      expect(second.allocation.vips['shop/b']).to.equal(first.allocation.vips['shop/b']);
    });

    it('changes nothing else: the same config as with a range, listener ports aside', () => {
      const objects = names('s', 5).map((n) => service(n));
      const withRange = compileObjects(objects, { vipCidr: '127.77.0.0/16' });
      const without = compileObjects(objects, local);
      const zeroed = {
        ...withRange,
        allocation: { ...withRange.allocation, ports: {} },
        services: withRange.services.map((s) => ({ ...s, ports: s.ports.map((p) => ({ ...p, listenerPort: 0 })) })),
      };
      expect(without).to.deep.equal(zeroed);
    });
  });

  it('reallocates a previous port outside the range or given twice', () => {
    const previous = { ports: { 'shop/a:80/TCP': 5, 'shop/b:80/TCP': 10010, 'shop/c:80/TCP': 10010 }, vips: {} };
    const config = compileObjects([service('a'), service('b'), service('c')], { previous });
    expect(config.allocation.ports).to.deep.equal({ 'shop/a:80/TCP': 10000, 'shop/b:80/TCP': 10010, 'shop/c:80/TCP': 10001 });
  });

  it('reports an invalid port range', () => {
    const config = compileObjects([service('a')], { listenerPorts: { min: 70000, max: 10 } });
    expect(config.problems.map((p) => `${p.kind} ${p.name}: ${p.message}`)).to.deep.equal(['Option listener-ports: 70000-10 is not a port range within 1..65535 (no listener ports allocated)']);
  });

  describe('virtual IPs (local mode)', () => {
    it('gives each meshed Service one in the block, stable across changes', () => {
      const first = compileObjects([service('a'), service('b')], { vipCidr: '127.77.0.0/16' });
      const vips = Object.values(first.allocation.vips);
      expect(new Set(vips).size).to.equal(2);
      for (const vip of vips) expect(vip).to.match(/^127\.77\.\d+\.\d+$/).and.not.equal('127.77.0.0').and.not.equal('127.77.255.255');
      expect(first.services.map((s) => s.vip)).to.deep.equal([first.allocation.vips['shop/a'], first.allocation.vips['shop/b']]);
      const second = recompile([service('0-first'), service('b')], first, { vipCidr: '127.77.0.0/16' });
      expect(second.allocation.vips['shop/b']).to.equal(first.allocation.vips['shop/b']);
    });

    it('gives a Service the same VIP after a restart (no previous allocation), whatever else changed', () => {
      const before = compileObjects(names('svc-', 30).map((n) => service(n)), { vipCidr: '127.77.0.0/16' });
      const after = compileObjects([...names('new-', 40), ...names('svc-', 30).filter((_, i) => i % 3 !== 0)].map((n) => service(n)), { vipCidr: '127.77.0.0/16' });
      for (const [key, vip] of Object.entries(after.allocation.vips)) {
        if (key.startsWith('shop/svc-')) expect(vip, key).to.equal(before.allocation.vips[key]);
      }
    });

    it('places colliding Services on the next free address, every one distinct, in a small block', () => {
      const config = compileObjects(names('s', 250).map((n) => service(n)), { vipCidr: '10.9.9.0/24' });
      const vips = Object.values(config.allocation.vips);
      expect(vips).to.have.length(250);
      expect(new Set(vips).size).to.equal(250);
      for (const vip of vips) expect(vip).to.match(/^10\.9\.9\.(\d+)$/).and.not.equal('10.9.9.0').and.not.equal('10.9.9.255');
    });

    it('reports a bad CIDR and a full block', () => {
      const bad = compileObjects([service('a')], { vipCidr: '127.77.0.0/33' });
      expect(bad.problems.map((p) => `${p.kind} ${p.name}`)).to.deep.equal(['Option vip-cidr']);
      expect(bad.services[0]!.vip).to.equal(null);
      const full = compileObjects([service('a'), service('b'), service('c')], { vipCidr: '127.0.0.8/30' });
      expect(full.services.map((s) => s.vip).slice(0, 2)).to.have.members(['127.0.0.9', '127.0.0.10']);
      expect(full.services[2]!.vip).to.equal(null);
      expect(problemsOf(full, 'Service', 'c')).to.deep.equal(['no free virtual IP left in 127.0.0.8/30']);
    });

    it('parses CIDRs', () => {
      expect(parseIpv4Cidr('10.0.0.0/24')).to.deep.equal({ first: 0x0a000001, last: 0x0a0000fe });
      expect(parseIpv4Cidr('10.0.0.7/32')).to.deep.equal({ first: 0x0a000007, last: 0x0a000007 });
      for (const bad of ['10.0.0.0', '10.0.0.256/24', '::1/128', 'x/8', '10.0.0.0/-1']) expect(parseIpv4Cidr(bad), bad).to.equal(null);
    });
  });

  it('a Compiler fed its own allocation back gives the same answer as a fresh compile', () => {
    const compiler = new Compiler();
    const options = { ...OPTIONS, vipCidr: '127.77.0.0/16' };
    let objects = names('s', 6).map((n) => service(n));
    let config = compiler.compile({ objects }, options);
    objects = [...objects.slice(2), service('zz'), service('aa')];
    const incremental = compiler.compile({ objects }, { ...options, previous: config.allocation });
    const fresh = new Compiler().compile({ objects }, { ...options, previous: config.allocation });
    expect(incremental).to.deep.equal(fresh);
    config = incremental;
    expect(compiler.compile({ objects }, { ...options, previous: config.allocation })).to.deep.equal(config);
  });
});
