import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fisherExact } from '../../../src/analysis/stats/fisher-exact.ts';

/** Independent reference: enumerate every way to pick which of the n runs "happened", count extreme ones. */
function bruteForce(a: number, b: number, c: number, d: number): number {
  const n = a + b + c + d;
  const row1 = a + b;
  const col1 = a + c;
  // Tables are determined by how many of the col1 "happened" runs fall into row 1; count subsets.
  const counts = new Map<number, number>();
  const walk = (i: number, chosen: number, inRow1: number) => {
    if (chosen === col1) {
      counts.set(inRow1, (counts.get(inRow1) ?? 0) + 1);
      return;
    }
    if (n - i < col1 - chosen) return;
    walk(i + 1, chosen + 1, inRow1 + (i < row1 ? 1 : 0));
    walk(i + 1, chosen, inRow1);
  };
  walk(0, 0, 0);
  const total = [...counts.values()].reduce((x, y) => x + y, 0);
  const obs = counts.get(a)!;
  return [...counts.values()].filter((v) => v <= obs).reduce((x, y) => x + y, 0) / total;
}

describe('stats: Fisher exact test', () => {
  it('5 of 5 against 0 of 5 is the two most extreme of C(10,5) tables', () => {
    assert.ok(Math.abs(fisherExact(5, 0, 0, 5) - 2 / 252) < 1e-12);
  });

  it('the same share on both sides gives p = 1; one run of difference in five is not significant', () => {
    assert.ok(Math.abs(fisherExact(3, 2, 3, 2) - 1) < 1e-12);
    assert.ok(fisherExact(5, 0, 4, 1) > 0.5);
    assert.ok(fisherExact(5, 0, 2, 3) > 0.05);
  });

  it('matches brute-force enumeration', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.nat(6), fc.nat(6), fc.nat(6), (a, b, c, d) => {
        const p = fisherExact(a, b, c, d);
        assert.ok(Math.abs(p - bruteForce(a, b, c, d)) < 1e-9, `${[a, b, c, d]}: ${p} vs ${bruteForce(a, b, c, d)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses counts that are not whole numbers', () => {
    assert.throws(() => fisherExact(1.5, 0, 0, 1), RangeError);
    assert.throws(() => fisherExact(-1, 0, 0, 1), RangeError);
  });
});
