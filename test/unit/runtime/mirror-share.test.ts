import { expect } from 'chai';
import { MirrorShare } from '../../../src/node-agent/runtime/mirror-share.js';
import type { BackendRuntime } from '../../../src/node-agent/runtime/types.js';

const backend: BackendRuntime = { backend: { service: 'shop/shadow', weight: 1, endpoints: [] }, pickEndpoint: () => null };

function taken(numerator: number, denominator: number, requests: number): boolean[] {
  const target = new MirrorShare(backend, numerator, denominator);
  return Array.from({ length: requests }, () => target.take());
}

describe('runtime: RequestMirror share', () => {
  it('copies exactly numerator of every denominator requests, evenly spread', () => {
    expect(taken(1, 1, 3)).to.deep.equal([true, true, true]);
    expect(taken(0, 100, 3)).to.deep.equal([false, false, false]);
    expect(taken(25, 50, 4)).to.deep.equal([false, true, false, true]);
    expect(taken(20, 100, 10)).to.deep.equal([false, false, false, false, true, false, false, false, false, true]);
    expect(taken(35, 100, 1000).filter(Boolean)).to.have.length(350);
  });
});
