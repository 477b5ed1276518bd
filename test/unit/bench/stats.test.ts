import { expect } from 'chai';
import { sumOfMetric } from '../../../bench/lib/prometheus-text.js';
import { distribution, median, percentile } from '../../../bench/lib/stats.js';

describe('bench: percentiles', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

  it('uses the nearest rank: the smallest sample with p% of the samples at or below it', () => {
    expect(percentile(hundred, 50)).to.equal(50);
    expect(percentile(hundred, 99)).to.equal(99);
    expect(percentile(hundred, 100)).to.equal(100);
    expect(percentile(hundred, 0)).to.equal(1);
    expect(percentile([7, 1, 3], 50)).to.equal(3);
    expect(percentile([7, 1, 3], 99)).to.equal(7);
  });

  it('gives the maximum as p99 of fewer than 100 samples', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(percentile(fifty, 99)).to.equal(50);
    expect(percentile(fifty, 98)).to.equal(49);
  });

  it('has no percentile of nothing and refuses a p outside 0-100', () => {
    expect(percentile([], 50)).to.equal(null);
    expect(() => percentile([1], 101)).to.throw(RangeError);
    expect(() => percentile([1], Number.NaN)).to.throw(RangeError);
  });

  it('takes the mean of the two middle samples as the median of an even count', () => {
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([5, 1, 3])).to.equal(3);
    expect(median([])).to.equal(null);
  });

  it('summarises a distribution without changing its input', () => {
    const samples = [3, 1, 2];
    expect(distribution(samples)).to.deep.equal({ count: 3, p50: 2, p99: 3, max: 3 });
    expect(samples).to.deep.equal([3, 1, 2]);
    expect(distribution([])).to.deep.equal({ count: 0, p50: null, p99: null, max: null });
  });
});

describe('bench: Prometheus text', () => {
  const text = [
    '# HELP plexus_listeners Listeners currently accepting traffic.',
    '# TYPE plexus_listeners gauge',
    'plexus_listeners{traffic_type="http"} 9000',
    'plexus_listeners{traffic_type="tcp"} 1000',
    'plexus_listeners_total 5',
    'nodejs_heap_size_used_bytes 52428800',
  ].join('\n');

  it('sums every label set of a metric, and only that metric', () => {
    expect(sumOfMetric(text, 'plexus_listeners')).to.equal(10_000);
    expect(sumOfMetric(text, 'nodejs_heap_size_used_bytes')).to.equal(52_428_800);
  });

  it('has no value for a metric that is not there', () => {
    expect(sumOfMetric(text, 'plexus_config_generation')).to.equal(null);
  });
});
