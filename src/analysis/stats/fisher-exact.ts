/**
 * Two-sided Fisher exact test on a 2×2 table: whether an event happens in a different share of the
 * runs on the two sides (e.g. the ejection happened in 5 of 5 baseline runs and in 0 of 5 now).
 * Whether an event happens is a yes/no outcome per run, so it gets a test for counts, not ranks.
 *
 * p is the probability, with the margins fixed, of a table at most as likely as the observed one
 * (the usual definition, as in R's fisher.test). No maintained npm package provides it.
 */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Table [[a, b], [c, d]]: rows are the two sides, columns "happened" / "did not". */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  for (const v of [a, b, c, d]) if (!Number.isInteger(v) || v < 0) throw new RangeError('fisherExact: counts must be whole numbers ≥ 0');
  const row1 = a + b;
  const row2 = c + d;
  const col1 = a + c;
  const n = row1 + row2;
  if (n === 0) return 1;
  const logTotal = logChoose(n, col1);
  const prob = (k: number) => Math.exp(logChoose(row1, k) + logChoose(row2, col1 - k) - logTotal);
  const observed = prob(a);
  let p = 0;
  for (let k = Math.max(0, col1 - row2); k <= Math.min(row1, col1); k++) {
    const pk = prob(k);
    // Relative tolerance: tables as likely as the observed one must count despite rounding.
    if (pk <= observed * (1 + 1e-7)) p += pk;
  }
  return Math.min(1, p);
}
