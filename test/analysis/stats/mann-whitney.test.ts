import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mannWhitney, midranks } from '../../../src/analysis/stats/mann-whitney.ts';

/** Independent reference: enumerate every split of the pooled values and count the extreme ones. */
function bruteForceP(x: number[], y: number[]): number {
  const pooled = [...x, ...y];
  const ranks = midranks(pooled);
  const n1 = x.length;
  const expected = (n1 * (pooled.length + 1)) / 2;
  const observed = Math.abs(ranks.slice(0, n1).reduce((a, b) => a + b, 0) - expected);
  let extreme = 0;
  let total = 0;
  const pick = (start: number, left: number, sum: number) => {
    if (left === 0) {
      total++;
      if (Math.abs(sum - expected) >= observed - 1e-9) extreme++;
      return;
    }
    for (let i = start; i <= pooled.length - left; i++) pick(i + 1, left - 1, sum + ranks[i]);
  };
  pick(0, n1, 0);
  return extreme / total;
}

describe('stats: Mann-Whitney U', () => {
  it('gives midranks to ties, Infinity included', () => {
    assert.deepEqual(midranks([3, 1, 3, Infinity, Infinity]), [2.5, 1, 2.5, 4.5, 4.5]);
  });

  it('complete separation of 5 vs 5 is the two most extreme of C(10,5) = 252 splits', () => {
    const r = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    assert.equal(r.method, 'exact');
    assert.equal(r.u, 0);
    assert.ok(Math.abs(r.p - 2 / 252) < 1e-12, `p=${r.p}`);
  });

  it('identical samples are not different', () => {
    const xs = [10.2, 10.4, 10.1, 10.3, 10.5];
    assert.equal(mannWhitney(xs, [...xs]).p, 1);
  });

  it('all values tied (an event that never happened on either side) gives p = 1', () => {
    assert.equal(mannWhitney([Infinity, Infinity, Infinity], [Infinity, Infinity]).p, 1);
  });

  it('an event that never happens on one side is a difference', () => {
    const r = mannWhitney([1.5, 1.75, 1.5, 2, 1.75], [Infinity, Infinity, Infinity, Infinity, Infinity]);
    assert.ok(r.p < 0.01, `p=${r.p}`);
  });

  it('matches brute-force enumeration, with and without ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
        (x, y) => {
          const p = mannWhitney(x, y).p;
          assert.ok(Math.abs(p - bruteForceP(x, y)) < 1e-9, `x=${x} y=${y} p=${p} brute=${bruteForceP(x, y)}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is symmetric in its two samples and U1 + U2 = n1·n2', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 12 }),
        (x, y) => {
          const a = mannWhitney(x, y);
          const b = mannWhitney(y, x);
          assert.ok(Math.abs(a.p - b.p) < 1e-9);
          assert.ok(Math.abs(a.u + b.u - x.length * y.length) < 1e-9);
          assert.ok(a.p > 0 && a.p <= 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the normal approximation for large samples agrees with the exact test near the limit', () => {
    // 45 vs 45 exceeds the exact limit; shifting one sample must give a small p, overlap a large one.
    const a = Array.from({ length: 45 }, (_, i) => i);
    const shifted = mannWhitney(
      a,
      a.map((v) => v + 20),
    );
    assert.equal(shifted.method, 'normal');
    assert.ok(shifted.p < 0.001, `p=${shifted.p}`);
    const interleaved = mannWhitney(
      a,
      a.map((v) => v + 0.5),
    );
    assert.ok(interleaved.p > 0.5, `p=${interleaved.p}`);
    // 40 vs 40 is still exact: compare the two methods on the same kind of data.
    const b = Array.from({ length: 40 }, (_, i) => i);
    const exact = mannWhitney(
      b,
      b.map((v) => v + 8.5),
    );
    assert.equal(exact.method, 'exact');
    const approxOf = mannWhitney([...b, 1000], [...b.map((v) => v + 8.5), 1000]);
    assert.equal(approxOf.method, 'normal');
    assert.ok(Math.abs(exact.p - approxOf.p) < 0.02, `exact=${exact.p} normal=${approxOf.p}`);
  });

  it('refuses NaN', () => {
    assert.throws(() => mannWhitney([1, NaN], [2]), RangeError);
  });
});
