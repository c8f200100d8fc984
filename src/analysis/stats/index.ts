/** Pure statistics over repeated runs: description of one set, comparison of two. */
export { describe, type Description } from './describe.ts';
export { fisherExact } from './fisher-exact.ts';
export { mannWhitney, midranks, type MannWhitneyResult } from './mann-whitney.ts';
