/**
 * The sweep table: one row per point, the axis values, then mean, 95 % interval, CV and "runs with
 * the event" for every key figure. CSV for tools, markdown for people.
 */
import { stringify } from 'csv-stringify/sync';
import { markdownTable } from 'markdown-table';
import type { AggregateSummary } from '../compare/aggregate-summary.ts';
import type { SweepAxis, SweepPoint } from './plan.ts';

export interface SweepPointResult {
  point: SweepPoint;
  /** Relative to the sweep directory. */
  dir: string;
  runs: number;
  /** Runs that ended without a summary (failed or interrupted). */
  failed: number;
  aggregate: AggregateSummary | null;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

export function sweepCsv(axes: readonly SweepAxis[], results: readonly SweepPointResult[]): string {
  const figures = results.find((r) => r.aggregate)?.aggregate?.figures.map((f) => f.field) ?? [];
  const header = [
    'point',
    ...axes.map((a) => a.label),
    'runs',
    'failed',
    ...figures.flatMap((f) => [`${f}.mean`, `${f}.ci95_lo`, `${f}.ci95_hi`, `${f}.cv`, `${f}.runs_with`]),
  ];
  const rows = results.map((r) => [
    r.point.id,
    ...axes.map((a) => r.point.values[a.label]),
    r.runs,
    r.failed,
    ...figures.flatMap((field) => {
      const f = r.aggregate?.figures.find((x) => x.field === field);
      const s = f?.stats;
      return s
        ? [r4(s.mean), r4(s.ci95[0]), r4(s.ci95[1]), s.cv === null ? '' : r4(s.cv), f!.happened]
        : ['', '', '', '', f?.happened ?? 0];
    }),
  ]);
  return stringify([header, ...rows]);
}

/** Figures shown in the markdown table (the CSV has them all). */
export const TABLE_FIGURES = ['events.firstEjectionS', 'events.redirectOnsetS', 'redirectedFraction', 'successRatio', 'latencyMs.p99'];

export function sweepMarkdown(experiment: string, axes: readonly SweepAxis[], results: readonly SweepPointResult[]): string {
  const first = results.find((r) => r.aggregate)?.aggregate;
  const figs = TABLE_FIGURES.map((f) => first?.figures.find((x) => x.field === f)).filter((f) => f !== undefined);
  const cell = (r: SweepPointResult, field: string) => {
    const f = r.aggregate?.figures.find((x) => x.field === field);
    if (!f || !r.aggregate) return '—';
    if (!f.stats) return `never (0/${r.aggregate.n})`;
    const digits = f.unit === '' ? 3 : 2;
    const seen = f.happened < r.aggregate.n ? ` (${f.happened}/${r.aggregate.n})` : '';
    const half = f.stats.ci95[1] - f.stats.mean;
    return `${f.stats.mean.toFixed(digits)}${half > 0 ? ` ± ${half.toFixed(digits)}` : ''}${seen}`;
  };
  const table = markdownTable([
    [...axes.map((a) => a.label), 'runs', ...figs.map((f) => `${f.label}${f.unit ? ` (${f.unit})` : ''}`)],
    ...results.map((r) => [
      ...axes.map((a) => r.point.values[a.label]),
      `${r.runs - r.failed}/${r.runs}`,
      ...figs.map((f) => cell(r, f.field)),
    ]),
  ]);
  return `## Sweep of ${experiment}\n\n${table}\n\nMean ± 95 % CI half-width across repeats; (k/n): runs in which the event happened. All figures: sweep.csv.\n`;
}
