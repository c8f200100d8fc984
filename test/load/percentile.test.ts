import assert from 'node:assert/strict';
import fc from 'fast-check';
import { k6Percentile, k6PercentileOf } from '../../src/util/percentile.ts';

describe('load/percentile: k6 TrendSink.P', () => {
  it('interpolates linearly at p·(n−1)', () => {
    assert.equal(k6Percentile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(k6Percentile([10, 20], 0.9), 19);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.ok(Math.abs(k6Percentile(hundred, 0.95) - 95.05) < 1e-9);
    assert.ok(Math.abs(k6Percentile(hundred, 0.99) - 99.01) < 1e-9);
  });

  it('handles 0 and 1 values the way k6 does', () => {
    assert.equal(k6Percentile([], 0.99), 0);
    assert.equal(k6Percentile([7], 0.01), 7);
    assert.throws(() => k6Percentile([1], 95), RangeError);
  });

  it('sorts numerically, not lexically', () => {
    assert.equal(k6PercentileOf([100, 9, 20], 0.5), 20);
  });

  it('property: bounded by min and max, monotone in p, exact at the ends', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (vals, a, b) => {
          const s = Float64Array.from(vals).sort();
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          assert.ok(k6Percentile(s, lo) <= k6Percentile(s, hi) + 1e-6);
          // === on purpose: -0 interpolates to +0, as in k6's Go code.
          assert.ok(k6Percentile(s, 0) === s[0]);
          assert.ok(k6Percentile(s, 1) === s[s.length - 1]);
        },
      ),
    );
  });
});
