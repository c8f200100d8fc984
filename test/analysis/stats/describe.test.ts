import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe as describeValues } from '../../../src/analysis/stats/describe.ts';

describe('stats: describe', () => {
  it('mean, sd, CV and the t interval of a small sample', () => {
    const d = describeValues([2, 4, 4, 4, 5, 5, 7, 9])!;
    assert.equal(d.n, 8);
    assert.equal(d.mean, 5);
    const sd = Math.sqrt(32 / 7);
    assert.ok(Math.abs(d.sd - sd) < 1e-12);
    assert.ok(Math.abs(d.cv! - sd / 5) < 1e-12);
    // t(0.975, 7) = 2.3646 (any t table); the interval is mean ± t·sd/√n.
    const half = d.ci95[1] - d.mean;
    assert.ok(Math.abs(half - (2.3646 * sd) / Math.sqrt(8)) < 1e-3, `half=${half}`);
    assert.equal(d.median, 4.5);
    assert.equal(d.min, 2);
    assert.equal(d.max, 9);
  });

  it('ignores non-finite values and returns null when none are left', () => {
    assert.equal(describeValues([]), null);
    assert.equal(describeValues([Infinity, NaN]), null);
    assert.equal(describeValues([3, Infinity])!.n, 1);
  });

  it('a single value has no spread and a CV of 0; a zero mean has no CV', () => {
    const one = describeValues([7])!;
    assert.deepEqual([one.sd, one.ci95, one.cv], [0, [7, 7], 0]);
    assert.equal(describeValues([-1, 1])!.cv, null);
  });

  it('the interval contains the mean and narrows as the sample grows', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e3, max: 1e3 }), { minLength: 2, maxLength: 30 }), (xs) => {
        const d = describeValues(xs)!;
        assert.ok(d.ci95[0] <= d.mean + 1e-9 && d.mean <= d.ci95[1] + 1e-9);
        const twice = describeValues([...xs, ...xs])!;
        assert.ok(twice.ci95[1] - twice.ci95[0] <= d.ci95[1] - d.ci95[0] + 1e-9);
      }),
    );
  });
});
