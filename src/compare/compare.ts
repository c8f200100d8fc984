/**
 * Compare two sets of runs the way benchstat compares benchmark runs: per key figure, the median of
 * each side, the change between them and a Mann-Whitney U p-value; "~" when the change is not
 * significant. On top of that, the experiment's `expect:` thresholds are checked on the candidate.
 *
 * A change counts only when it is significant (p < alpha), the two sides' 95 % intervals of the mean
 * do not overlap, and it is large enough to matter: at least `minDeltaPct` of the baseline and at
 * least the figure's `minAbs` (see key-figures.ts). Significance alone flags tiny shifts once there
 * are many repeats, and chance separations when a dozen figures are tested at once; size alone flags
 * noise with few repeats.
 */
import { median } from 'simple-statistics';
import { describe } from '../analysis/stats/describe.ts';
import { fisherExact } from '../analysis/stats/fisher-exact.ts';
import { mannWhitney } from '../analysis/stats/mann-whitney.ts';
import { parseExpect } from '../experiment/expect.ts';
import { checkExpectations, checkParsedExpectations, fieldValue, type ExpectationResult } from './expect.ts';
import { KEY_FIGURES, type KeyFigure } from './key-figures.ts';
import type { RunSet } from './run-set.ts';

export interface CompareOptions {
  /** Significance level; default 0.05. */
  alpha?: number;
  /** Smallest relative change (percent of the baseline median) that counts; default 5. */
  minDeltaPct?: number;
  /** What fails the comparison: significant changes of gated figures and thresholds ("any"), or thresholds only. */
  failOn?: 'any' | 'thresholds';
  figures?: readonly KeyFigure[];
}

export interface SideStats {
  n: number;
  /** Runs in which the figure had a value (the event happened). */
  happened: number;
  /** Median with "never" as +Infinity; null when no run had the field at all. */
  median: number | null;
  /** 95 % CI half-width of the mean relative to the mean, over the runs with a value; null if unknown. */
  spreadPct: number | null;
  values: Array<number | null>;
}

export interface FigureComparison {
  field: string;
  label: string;
  unit: string;
  gate: boolean;
  base: SideStats;
  cand: SideStats;
  /** cand − base medians; null when either is missing or infinite. */
  delta: number | null;
  deltaPct: number | null;
  p: number;
  significant: boolean;
  /** Significant and large enough: the figure moved. */
  changed: boolean;
  /** A change in the figure's better direction (see KeyFigure.better): reported, never a regression. */
  improved: boolean;
  /** Why it is or is not a change, in words (for the table and JUnit). */
  note: string;
}

export interface ComparisonResult {
  experiment: { base: string; cand: string };
  alpha: number;
  minDeltaPct: number;
  figures: FigureComparison[];
  expectations: Array<ExpectationResult & { runsOk: number; runs: number }>;
  warnings: string[];
  regression: boolean;
  exitCode: 0 | 1;
}

const sideValues = (set: RunSet, fig: KeyFigure): Array<number | null> =>
  set.runs.map((r) => {
    const v = fieldValue(r.summary, fig.field);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });

function sideStats(values: Array<number | null>, fig: KeyFigure): SideStats {
  const present = values.filter((v): v is number => v !== null);
  const forMedian = fig.nullIsNever ? values.map((v) => v ?? Infinity) : present;
  const d = describe(present);
  const spreadPct = d && d.mean !== 0 ? (100 * (d.ci95[1] - d.mean)) / Math.abs(d.mean) : null;
  return { n: values.length, happened: present.length, median: forMedian.length ? median(forMedian) : null, spreadPct, values };
}

/** Smallest two-sided p the exact test can reach with these sample sizes: 2 / C(n1+n2, n1). */
export function minimumP(n1: number, n2: number): number {
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return Math.min(1, 2 / c);
}

function compareFigure(base: RunSet, cand: RunSet, fig: KeyFigure, alpha: number, minDeltaPct: number): FigureComparison {
  const b = sideStats(sideValues(base, fig), fig);
  const c = sideStats(sideValues(cand, fig), fig);
  const toTest = (s: SideStats) => (fig.nullIsNever ? s.values.map((v) => v ?? Infinity) : s.values.filter((v): v is number => v !== null));
  const { p } = mannWhitney(toTest(b), toTest(c));
  const finite = b.median !== null && c.median !== null && Number.isFinite(b.median) && Number.isFinite(c.median);
  const delta = finite ? c.median! - b.median! : null;
  const deltaPct = finite && b.median !== 0 ? (100 * delta!) / Math.abs(b.median!) : null;
  const significant = p < alpha;
  let changed = false;
  let note: string;
  if (!significant) note = `~ (p=${p.toFixed(3)} ≥ ${alpha})`;
  else if (!finite) {
    // A median of "never" on one side: the question is whether the event happens at all, a yes/no
    // per run, so the decision is Fisher's test on how many runs had it, not the rank test.
    const pHappens = fisherExact(b.happened, b.n - b.happened, c.happened, c.n - c.happened);
    changed = b.median !== c.median && pHappens < alpha;
    const seen = `in ${b.happened}/${b.n} baseline runs, ${c.happened}/${c.n} now (Fisher p=${pHappens.toFixed(3)})`;
    note = changed ? `${c.median === Infinity ? 'stopped happening' : 'started happening'}: ${seen}` : `happens ${seen}`;
  } else if (overlap(b, c)) note = 'significant but the 95 % CIs overlap';
  else if (Math.abs(delta!) < fig.minAbs) note = `significant but |Δ| < ${fig.minAbs}${fig.unit ? ` ${fig.unit}` : ''}`;
  else if (deltaPct !== null && Math.abs(deltaPct) < minDeltaPct) note = `significant but |Δ| < ${minDeltaPct} %`;
  else {
    changed = true;
    note = `moved ${delta! > 0 ? 'up' : 'down'} by ${fmtDelta(delta!, fig.unit)}${deltaPct === null ? '' : ` (${deltaPct > 0 ? '+' : ''}${deltaPct.toFixed(1)} %)`}`;
  }
  const improved = changed && finite && fig.better !== undefined && (fig.better === 'lower' ? delta! < 0 : delta! > 0);
  if (improved) note = `improved: ${note}`;
  return {
    field: fig.field,
    label: fig.label,
    unit: fig.unit,
    gate: fig.gate,
    base: b,
    cand: c,
    delta,
    deltaPct,
    p,
    significant,
    changed,
    improved,
    note,
  };
}

/**
 * Whether the two sides' 95 % intervals of the mean overlap. With 5 runs a side the exact test
 * separates two samples by chance 3 % of the time per figure, and a dozen figures are compared at
 * once; also asking for disjoint intervals keeps identical setups from "changing" (see
 * bench/compare-calibration.ts for the false-positive rate this gives).
 */
function overlap(b: SideStats, c: SideStats): boolean {
  const ci = (s: SideStats) => describe(s.values.filter((v): v is number => v !== null));
  const x = ci(b);
  const y = ci(c);
  if (!x || !y || x.n < 2 || y.n < 2) return false;
  return x.ci95[0] <= y.ci95[1] && y.ci95[0] <= x.ci95[1];
}

const fmtDelta = (d: number, unit: string) =>
  `${Math.abs(d) >= 100 ? Math.abs(d).toFixed(0) : Math.abs(d) >= 1 ? Math.abs(d).toFixed(2) : Math.abs(d).toFixed(3)}${unit ? ` ${unit}` : ''}`;

/**
 * The candidate's summary as one record for thresholds: per field the median of the runs, null when
 * at least half the runs had null (the event did not happen in a typical run).
 */
export function typicalSummary(set: RunSet, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const vals = set.runs.map((r) => fieldValue(r.summary, field));
    if (vals.every((v) => v === undefined)) continue;
    const nums = vals.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const nulls = vals.filter((v) => v === null).length;
    const value = nums.length === 0 || nulls * 2 >= vals.length ? null : median(nums);
    let node = out;
    const segs = field.split('.');
    segs.slice(0, -1).forEach((s) => (node = (node[s] ??= {}) as Record<string, unknown>));
    node[segs.at(-1)!] = value;
  }
  return out;
}

export function compareSets(base: RunSet, cand: RunSet, opts: CompareOptions = {}): ComparisonResult {
  const alpha = opts.alpha ?? 0.05;
  const minDeltaPct = opts.minDeltaPct ?? 5;
  const warnings: string[] = [];
  if (base.experiment !== cand.experiment)
    warnings.push(`comparing different experiments: ${base.experiment} (baseline) and ${cand.experiment} (candidate)`);
  const settings = (set: RunSet) =>
    [
      ...new Set(
        set.runs.map(
          (r) => `time scale ${r.manifest?.timeScale ?? '?'}${(r.manifest?.overrides ?? []).map((o) => ` --set ${o}`).join('')}`,
        ),
      ),
    ].join(' | ');
  if (settings(base) !== settings(cand))
    warnings.push(`the two sides ran with different settings: baseline ${settings(base)}; candidate ${settings(cand)}`);
  const minP = minimumP(base.runs.length, cand.runs.length);
  if (minP >= alpha) {
    warnings.push(
      `with ${base.runs.length} vs ${cand.runs.length} runs no change can be significant at α=${alpha} (smallest possible p is ${minP.toFixed(3)}); use --repeat 5 on both sides`,
    );
  }
  const figures = (opts.figures ?? KEY_FIGURES).map((f) => compareFigure(base, cand, f, alpha, minDeltaPct));

  // Thresholds come from the candidate's experiment (what it declares it must meet).
  const expect = Object.keys(cand.expect).length ? cand.expect : base.expect;
  const parsed = parseExpect(expect, `${cand.source} (expect)`);
  const typical = typicalSummary(cand, Object.keys(expect));
  const expectations = checkParsedExpectations(parsed, typical).map((r) => {
    const perRun = cand.runs.map((run) => checkExpectations({ [r.field]: [r.condition] }, run.summary)[0].ok);
    return { ...r, runsOk: perRun.filter(Boolean).length, runs: perRun.length };
  });

  const moved = figures.some((f) => f.gate && f.changed && !f.improved);
  const failed = expectations.some((e) => !e.ok);
  const regression = failed || ((opts.failOn ?? 'any') === 'any' && moved);
  return {
    experiment: { base: base.experiment, cand: cand.experiment },
    alpha,
    minDeltaPct,
    figures,
    expectations,
    warnings,
    regression,
    exitCode: regression ? 1 : 0,
  };
}
