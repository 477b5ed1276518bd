import { expect } from 'chai';
import { parseQuantityMilli } from '../../../src/smi/quantity.js';

const MAX = 1_000_000_000_000;

describe('smi/quantity: Kubernetes quantities to milli-units', () => {
  const valid: [unknown, number][] = [
    [1, 1000], ['1', 1000], ['1000m', 1000], ['500m', 500], [0.5, 500], ['0.5', 500], [1.5, 1500], ['1.5', 1500],
    ['.5', 500], ['5.', 5000], ['0', 0], ['0m', 0], [0, 0], ['-0', 0], ['+2', 2000], ['10m', 10], ['100m', 100],
    ['2k', 2_000_000], ['1M', 1_000_000_000], ['1G', 1_000_000_000_000], ['1Ki', 1_024_000], ['1Mi', 1_048_576_000],
    ['0.5Ki', 512_000], ['1e3', 1_000_000], ['1E3', 1_000_000], ['1e-3', 1], ['5e-1', 500], ['1e+2', 100_000],
    ['0.0001', 1], ['1.0001', 1001], ['1m', 1], ['0.1m', 1], [1e-7, 1], ['  250m ', 250], ['007', 7000],
    ['12.50', 12_500], ['0.000000000000000000000000000000000000000000000001', 1],
  ];

  for (const [input, milli] of valid) {
    it(`${JSON.stringify(input)} → ${milli}`, () => {
      expect(parseQuantityMilli(input, MAX)).to.deep.equal({ ok: true, milli });
    });
  }

  it('reads a trailing E as the exa suffix, not as an exponent', () => {
    expect(parseQuantityMilli('1E', MAX)).to.deep.equal({ ok: false, reason: 'is too large (at most 1000000000 units)' });
    expect(parseQuantityMilli('0E', MAX)).to.deep.equal({ ok: true, milli: 0 });
  });

  const invalid: [unknown, RegExp][] = [
    ['abc', /not a valid quantity/], ['', /not a valid quantity/], ['1x', /not a valid quantity/], ['1 k', /not a valid quantity/],
    ['1e', /not a valid quantity/], ['1ki', /not a valid quantity/], ['--1', /not a valid quantity/], ['.', /not a valid quantity/],
    ['1.2.3', /not a valid quantity/], ['NaN', /not a valid quantity/], ['Infinity', /not a valid quantity/],
    [Number.NaN, /finite/], [Number.POSITIVE_INFINITY, /finite/], [-1, /negative/], ['-500m', /negative/],
    ['2T', /too large/], ['1e999999999999', /too large/], ['1Ei', /too large/], [1e300, /too large/],
    ['1'.repeat(200), /too long/], [true, /must be a quantity/], [null, /must be a quantity/], [{}, /must be a quantity/],
  ];
  for (const [input, reason] of invalid) {
    it(`rejects ${typeof input === 'string' ? JSON.stringify(input.slice(0, 20)) : String(input)}`, () => {
      const result = parseQuantityMilli(input, MAX);
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.reason).to.match(reason);
    });
  }

  it('tiny exponents round up to one milli-unit without large powers', () => {
    expect(parseQuantityMilli('1e-999999999', MAX)).to.deep.equal({ ok: true, milli: 1 });
    expect(parseQuantityMilli('0e999999999', MAX)).to.deep.equal({ ok: true, milli: 0 });
  });

  it('accepts exactly the maximum and rejects one milli-unit more', () => {
    expect(parseQuantityMilli('1G', MAX)).to.deep.equal({ ok: true, milli: MAX });
    expect(parseQuantityMilli('1000000000.001', MAX)).to.deep.include({ ok: false });
  });
});
