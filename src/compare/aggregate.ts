/**
 * `--repeat N`: the key figures of N runs of one experiment, each with mean, spread, 95 % interval
 * and coefficient of variation, plus how many runs saw the event at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, type Description } from '../analysis/stats/describe.ts';
import type { AggregateSummary } from './aggregate-summary.ts';
import { writeRepeatFigures } from './repeat-files.ts';
import { fieldValue } from './expect.ts';
import { KEY_FIGURES, type KeyFigure } from './key-figures.ts';
import { readRunRecord, type RunRecord } from './run-set.ts';

/**
 * A t interval is symmetric, so on skewed figures (latency) it can reach below zero; counts, rates,
 * latencies and ratios cannot, and a ratio cannot exceed 1. The interval is cut to what is possible.
 */
function clampToRange(d: Description | null, fig: KeyFigure): Description | null {
  if (!d || fig.kind === 'time') return d;
  const hi = fig.kind === 'ratio' ? Math.min(1, d.ci95[1]) : d.ci95[1];
  return { ...d, ci95: [Math.max(0, d.ci95[0]), hi] };
}

/** Value of a key figure in one summary: a finite number or null. */
export function figureValue(summary: unknown, fig: KeyFigure): number | null {
  const v = fieldValue(summary, fig.field);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function aggregateSummaries(
  runs: ReadonlyArray<Pick<RunRecord, 'runId' | 'summary'>>,
  figures: readonly KeyFigure[] = KEY_FIGURES,
): AggregateSummary {
  return {
    experiment: String(runs[0]?.summary.experiment ?? ''),
    n: runs.length,
    runIds: runs.map((r) => r.runId),
    figures: figures.map((fig) => {
      const values = runs.map((r) => figureValue(r.summary, fig));
      const present = values.filter((v): v is number => v !== null);
      return {
        field: fig.field,
        label: fig.label,
        unit: fig.unit,
        values,
        happened: present.length,
        stats: clampToRange(describe(present), fig),
      };
    }),
  };
}

/** Aggregate the runs in these directories (each holding summary.json). */
export function aggregateRuns(runDirs: readonly string[]): AggregateSummary {
  return aggregateSummaries(runDirs.map(readRunRecord));
}

const num = (v: number, unit: string) => {
  // One run with the event has no sd or CI: say so, never print NaN.
  if (!Number.isFinite(v)) return '—';
  const digits = unit === '' ? 3 : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit && unit !== 'req/s' ? unit : unit ? ` ${unit}` : ''}`;
};
const pct = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)} %`);

// The issue's repeatability target: the first ejection should vary by at most 5 % between runs.
const CV_TARGET = 0.05;
function cvLine(a: AggregateSummary): string[] {
  const fig = a.figures.find((f) => f.field === 'events.firstEjectionS');
  const cv = fig?.stats?.cv;
  // A spread needs two runs that had the ejection; one run "meeting" the target would say nothing.
  if (cv === undefined || cv === null || a.n < 2 || (fig?.happened ?? 0) < 2) return [];
  const met = cv <= CV_TARGET;
  return [
    '',
    `Coefficient of variation of the first ejection: ${pct(cv)} (target ≤ ${pct(CV_TARGET)}: ${met ? 'met' : 'NOT met'})`,
    `The target is Spillover's own repeatability goal for this instrument (not an Istio or Envoy figure): ${
      met
        ? "runs of this setup on this machine agree, so one run's ejection time can be trusted to within about that much."
        : 'NOT met means runs of this setup disagree by more than that (often a busy machine), so do not trust a single run: use the mean and its 95 % CI above, or rerun on a quieter machine.'
    }`,
  ];
}

/** A markdown table of the aggregate: what `--repeat N` prints. */
export function formatAggregate(a: AggregateSummary): string {
  const rows = a.figures.map((f) => {
    const s = f.stats;
    const seen = `${f.happened}/${a.n}`;
    if (!s) return `| ${f.label} | ${seen} | — | — | — | — |`;
    return `| ${f.label} | ${seen} | ${num(s.mean, f.unit)} | ${num(s.sd, f.unit)} | ${num(s.ci95[0], f.unit)} … ${num(s.ci95[1], f.unit)} | ${pct(s.cv)} |`;
  });
  return [
    `${a.experiment}: ${a.n} run${a.n === 1 ? '' : 's'} (${a.runIds.join(', ')})`,
    '',
    '| figure | runs with it | mean | sd | 95 % CI of mean | CV |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    ...cvLine(a),
  ].join('\n');
}

export const AGGREGATE_JSON = 'aggregate.json';
export const AGGREGATE_MD = 'aggregate.md';

/**
 * Write aggregate.json, aggregate.md and the repeat figures into the repeat set's directory; returns
 * the markdown's path. Run directories default to `<setDir>/<runId>` for each run of the aggregate.
 */
export async function writeAggregate(setDir: string, agg: AggregateSummary, runDirs?: readonly string[]): Promise<string> {
  fs.writeFileSync(path.join(setDir, AGGREGATE_JSON), `${JSON.stringify(agg, null, 2)}\n`);
  const md = path.join(setDir, AGGREGATE_MD);
  fs.writeFileSync(md, `${formatAggregate(agg)}\n`);
  const dirs = runDirs ?? agg.runIds.map((id) => path.join(setDir, id)).filter((d) => fs.existsSync(d));
  await writeRepeatFigures(setDir, agg, dirs);
  return md;
}
